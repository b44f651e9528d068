"""Which fonts the PDF statement can use on this host, found once through fontconfig (`fc-list`).

A font that renders Chinese is preferred (`fc-list :lang=zh`). Without one the statement still prints:
labels fall back to English and pinyin, characters the font cannot draw become '?', and the footer says
so. Nothing is downloaded or installed at run time.
"""

from __future__ import annotations

import shutil
import subprocess  # noqa: S404 - fixed argument lists, no shell
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_LATIN_FAMILIES = ("DejaVu Sans", "Liberation Sans", "Noto Sans", "FreeSans")
_FONT_SUFFIXES = (".ttf", ".otf", ".ttc")


@dataclass(frozen=True)
class FontFace:
    path: Path
    index: int = 0  # face number inside a .ttc collection


@dataclass(frozen=True)
class FontChoice:
    """`regular is None` means no TrueType font was found: use PDF core Helvetica (Latin-1 only)."""

    regular: FontFace | None
    bold: FontFace | None
    cjk: bool


def _fc_list(*pattern: str) -> list[tuple[Path, int, str, str]]:
    exe = shutil.which("fc-list")
    if exe is None:
        return []
    try:
        out = subprocess.run(  # noqa: S603 - fixed executable and format
            [exe, "-f", "%{file}|%{index}|%{family}|%{style}\n", *pattern],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    rows = []
    for line in out.splitlines():
        parts = line.split("|")
        if len(parts) != 4 or not parts[0].lower().endswith(_FONT_SUFFIXES):
            continue
        try:
            index = int(parts[1] or 0)
        except ValueError:
            continue
        rows.append((Path(parts[0]), index, parts[2].split(",")[0], parts[3]))
    return sorted(rows)


def _is_plain(style: str) -> bool:
    names = {s.strip().lower() for s in style.split(",")}
    return bool(names & {"regular", "book", "normal", "r"})


def _is_bold(style: str) -> bool:
    return "bold" in {s.strip().lower() for s in style.split(",")}


def _cjk_preference(family: str) -> tuple[int, int, str]:
    """Simplified Chinese sans-serif first: the bank's customers read mainland Chinese."""
    words = family.replace("-", " ").split()
    simplified = 0 if {"SC", "CN", "Hans", "GB"} & set(words) else 1
    return simplified, int("Serif" in words), family


def _pick(rows: list[tuple[Path, int, str, str]], families: tuple[str, ...] | None) -> FontChoice | None:
    by_family: dict[str, list[tuple[Path, int, str, str]]] = {}
    for row in rows:
        by_family.setdefault(row[2], []).append(row)
    order = [f for f in families if f in by_family] if families else sorted(by_family, key=_cjk_preference)
    for family in order:
        faces = by_family[family]
        regular = next((r for r in faces if _is_plain(r[3])), None)
        if regular is None:
            continue
        bold = next(
            (
                r
                for r in faces
                if _is_bold(r[3]) and "italic" not in r[3].lower() and "oblique" not in r[3].lower()
            ),
            None,
        )
        return FontChoice(
            regular=FontFace(regular[0], regular[1]),
            bold=FontFace(bold[0], bold[1]) if bold else None,
            cjk=False,
        )
    return None


@lru_cache(maxsize=1)
def choose_fonts() -> FontChoice:
    cjk = _pick(_fc_list(":lang=zh"), None)
    if cjk is not None:
        return FontChoice(regular=cjk.regular, bold=cjk.bold, cjk=True)
    latin = _pick(_fc_list(), _LATIN_FAMILIES)
    return latin or FontChoice(regular=None, bold=None, cjk=False)
