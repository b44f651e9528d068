"""Atrium Life's message catalogues (zh, en), on the mobile app's i18n machinery (locale negotiation, the
`atrium_locale` cookie and the POST /locale switch are shared; only the words are Life's own)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from atrium.web.mobile.i18n import LOCALES, Translator

_DIR = Path(__file__).resolve().parent


@lru_cache(maxsize=len(LOCALES))
def catalogue(locale: str) -> dict[str, str]:
    with (_DIR / f"{locale}.json").open(encoding="utf-8") as f:
        return json.load(f)


class LifeTranslator(Translator):
    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in LOCALES else LOCALES[0]
        self._messages = catalogue(self.locale)
