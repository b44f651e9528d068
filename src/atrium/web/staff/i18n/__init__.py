"""The staff console's message catalogues (zh, en), on the mobile app's i18n machinery.

Locale negotiation (`atrium_locale` cookie, then Accept-Language), the language switch (POST /locale) and
Babel formatting are the mobile app's, imported; only the words differ, so the console keeps its own
catalogues with the same rules (both languages carry the same ids; a test checks it).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from atrium.web.mobile.i18n import LOCALES, Translator, load_catalogue

_DIR = Path(__file__).resolve().parent


@lru_cache(maxsize=len(LOCALES))
def catalogue(locale: str) -> dict[str, str]:
    return load_catalogue(_DIR, locale)


class StaffTranslator(Translator):
    """The mobile `Translator` (`t(key, **params)`, `t.has(key)`) over the console's catalogue."""

    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in LOCALES else LOCALES[0]
        self._messages = catalogue(self.locale)
