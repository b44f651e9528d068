"""The customer's app preferences, as pure rules.

The display mode: "standard", or "elder" — larger type and targets, higher contrast, plain wording, fewer
items, a one-tap call to a person, and a second confirmation that reads each money movement back in words
before it is sent. A customer who never chose has no stored mode (None); the app then follows the
browser's own choice, standard by default.
"""

from __future__ import annotations

from typing import Literal, get_args

UiMode = Literal["standard", "elder"]
UI_MODES: tuple[str, ...] = get_args(UiMode)
DEFAULT_UI_MODE: UiMode = "standard"


def is_ui_mode(value: object) -> bool:
    return isinstance(value, str) and value in UI_MODES


def effective_ui_mode(stored: str | None, browser: str | None) -> str:
    """The mode a page is drawn in: the customer's stored choice, else the browser's, else standard."""
    if is_ui_mode(stored):
        return str(stored)
    if is_ui_mode(browser):
        return str(browser)
    return DEFAULT_UI_MODE
