"""Accessibility in the browser, by keyboard: the skip link is the first stop and moves focus to the main
content, and keyboard focus is visible. (axe-core and 44 px targets on every page are the sweep's:
test_accessibility_sweep.py.)"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.browser.sweep_support import SMALL_TARGETS
from tests.web.browser_support import sign_in
from tests.web.mobile.factories import seed_customer

pytestmark = pytest.mark.browser


def _small_targets(page) -> list[str]:  # type: ignore[no-untyped-def]
    """Interactive elements smaller than 44×44 CSS px (WCAG 2.5.5), links inside text included, the skip link
    not: other browser tests hold their pages to it (the sweep measures every page itself)."""
    return [target for target, _ in page.evaluate(SMALL_TARGETS, 44)]


def test_the_skip_link_is_the_first_stop_and_moves_focus_to_main(page, db):
    who = seed_customer(db, username="keys")
    sign_in(page, who.username, who.password)
    page.goto("/transfer")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="跳到主要内容")
    expect(skip).to_be_focused()
    # It slides into view when focused (a 0.15 s transition): wait for it to arrive.
    for _ in range(40):
        box = skip.bounding_box()
        if box is not None and box["y"] >= 0:
            break
        page.wait_for_timeout(50)
    assert box is not None and box["y"] >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"


def test_keyboard_focus_is_visible(page, db):
    who = seed_customer(db, username="focus")
    sign_in(page, who.username, who.password)
    page.goto("/settings")
    for _ in range(4):
        page.keyboard.press("Tab")
    outline = page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
        return [document.activeElement.tagName, s.outlineStyle, parseFloat(s.outlineWidth)]; }""")
    assert outline[1] != "none" and outline[2] >= 2, outline
