"""The mobile app's languages: message catalogues (zh, en) and the choice of locale per request.

Catalogues are JSON files (`zh.json`, plus one `zh.<area>.json` per feature area, merged; an id may be
defined in one file only) of stable message ids (`"transfer.confirm.title"`) to text with `{name}`
placeholders; both languages carry the same ids (a test checks it, and that every id a template or page
uses exists). Numbers, money and dates are formatted by Babel (see `formatting`), never by hand.

Elder mode's plain wording is an overlay in the same catalogues: `<locale>.elder.json` holds ids named
`elder:<original id>`, which a Translator made for elder mode prefers to the original. Every overlay id
overrides an id that exists, with the same placeholders (a test checks both).

The locale of a request: the `atrium_locale` cookie (the language switch), then the browser's
Accept-Language, then `settings.default_locale`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError

LOCALES: tuple[str, ...] = ("zh", "en")
LOCALE_COOKIE = "atrium_locale"
LOCALE_NAMES = {"zh": "简体中文", "en": "English"}  # each language named in itself, for the switch
_DIR = Path(__file__).resolve().parent


def catalogue_files(locale: str, directory: Path = _DIR) -> list[Path]:
    return [directory / f"{locale}.json", *sorted(directory.glob(f"{locale}.*.json"))]


@lru_cache(maxsize=len(LOCALES))
def catalogue(locale: str) -> dict[str, str]:
    return load_catalogue(_DIR, locale)


def load_catalogue(directory: Path, locale: str) -> dict[str, str]:
    """`<locale>.json` merged with every `<locale>.<area>.json` beside it; an id lives in one file only."""
    messages: dict[str, str] = {}
    for path in catalogue_files(locale, directory):
        with path.open(encoding="utf-8") as f:
            part: dict[str, str] = json.load(f)
        twice = messages.keys() & part.keys()
        if twice:
            raise ValueError(f"{path.name} defines ids another catalogue file has: {sorted(twice)[:5]}")
        messages.update(part)
    return messages


ELDER_PREFIX = "elder:"


class Translator:
    """`t("home.title")` or `t("transfer.available", amount="¥1.00")` in one locale; with `elder=True`, the
    plain-wording overlay's text where it has one."""

    elder: bool = False  # a class default, so subclasses with their own __init__ (the console's) read it

    def __init__(self, locale: str, *, elder: bool = False) -> None:
        self.locale = locale
        self.elder = elder
        self._messages = catalogue(locale)

    def __call__(self, key: str, /, **params: object) -> str:
        # An unknown id shows the id itself rather than failing the page; the catalogue test keeps ids whole.
        text = self._messages.get(key, key)
        if self.elder:
            text = self._messages.get(ELDER_PREFIX + key, text)
        return text.format(**params) if params else text

    def has(self, key: str) -> bool:
        return key in self._messages


def _parse_accept_language(header: str) -> list[str]:
    """Language tags in the order of preference the header gives (q-values), highest first."""
    tags: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0 and tag.strip() != "*":
            tags.append((-q, index, tag.strip()))
    return [tag for _, _, tag in sorted(tags)]


def _language_of(tag: str) -> str | None:
    try:
        return Locale.parse(tag, sep="-").language
    except (ValueError, UnknownLocaleError):
        return None


def negotiate(cookie: str | None, accept_language: str | None, default: str) -> str:
    if cookie in LOCALES:
        return cookie  # type: ignore[return-value]
    for tag in _parse_accept_language(accept_language or ""):
        language = _language_of(tag)
        if language in LOCALES:
            return language  # type: ignore[return-value]
    return default if default in LOCALES else LOCALES[0]
