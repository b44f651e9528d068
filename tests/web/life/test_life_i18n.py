"""Atrium Life's catalogues: both languages carry the same ids and placeholders, and every id its pages
and templates name exists."""

from __future__ import annotations

import re
from pathlib import Path

from atrium.web.life.i18n import LifeTranslator, catalogue
from atrium.web.life.pages import SERVICES

LIFE = Path(__file__).resolve().parents[3] / "src" / "atrium" / "web" / "life"
_LITERAL = re.compile(r"""\bt\(\s*["']([a-z0-9_.\-]+)["']\s*[,)]""")
_QUOTED_KEY = re.compile(r"""["']((?:error|signed_out|home|service)\.[a-z0-9_.\-]+)["']""")


def test_both_languages_have_the_same_ids_and_placeholders():
    zh, en = catalogue("zh"), catalogue("en")
    assert set(zh) == set(en), sorted(set(zh) ^ set(en))
    fields = re.compile(r"{(\w+)}")
    assert not [k for k in zh if set(fields.findall(zh[k])) != set(fields.findall(en[k]))]


def test_every_id_used_exists():
    zh = catalogue("zh")
    used: set[str] = set()
    for path in LIFE.rglob("*"):
        if path.suffix in (".html", ".py"):
            text = path.read_text(encoding="utf-8")
            used |= set(_LITERAL.findall(text)) | set(_QUOTED_KEY.findall(text))
    for key, _, _ in SERVICES:
        used |= {f"service.{key}", f"service.{key}.about"}
    assert used, "found no ids: the scan is broken"
    missing = sorted(k for k in used if k not in zh)
    assert not missing, missing


def test_translator_falls_back_to_chinese_for_unknown_locales():
    assert LifeTranslator("fr")("app.name") == "Atrium 生活"
    assert LifeTranslator("en")("home.hello", name="Emma") == "Hello, Emma"
