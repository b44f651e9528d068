"""Accessibility in the browser: axe-core (WCAG 2.x A/AA, contrast included) on every page, 44 px touch
targets, the skip link and visible keyboard focus."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.web.browser_support import PHONE, axe_violations, second_factor, sign_in
from tests.web.mobile.factories import deposit, seed_customer

pytestmark = pytest.mark.browser



@pytest.fixture()
def audit_page(browser, live_server, db):  # type: ignore[no-untyped-def]
    # axe is injected as a script, which the app's CSP (rightly) forbids: this context bypasses the CSP.
    context = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=live_server, bypass_csp=True)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def _small_targets(page) -> list[str]:  # type: ignore[no-untyped-def]
    """Interactive elements smaller than 44×44 CSS px (WCAG 2.5.5), other than links inside text."""
    return page.evaluate("""() => {
      const out = [];
      const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary';
      for (const el of document.querySelectorAll(selector)) {
        const r = el.getBoundingClientRect();
        const style = getComputedStyle(el);
        if (r.width === 0 || r.height === 0 || style.visibility === 'hidden') continue;
        if (el.classList.contains('skip-link')) continue;
        // A radio or checkbox is covered by its card-sized label; measure the label instead.
        const choice = el.type === 'radio' || el.type === 'checkbox';
        const box = choice ? (el.closest('label') || el).getBoundingClientRect() : r;
        const size = `${Math.round(box.width)}x${Math.round(box.height)}`;
        if (box.width < 44 || box.height < 44) out.push(el.outerHTML.slice(0, 90) + ' ' + size);
      }
      return out;
    }""")


def _pages(db) -> tuple:  # type: ignore[no-untyped-def]
    who = seed_customer(db, username="a11y")
    for i in range(3):
        deposit(db, who.accounts[0], 1_000 + i, f"Refund {i}")
    return who, [
        "/",
        f"/accounts/{who.accounts[0].id}",
        "/transfer",
        "/limits",
        "/settings",
        "/accounts/acc_nope",
        "/offline",
    ]


@pytest.mark.database_independent  # axe and page layout: the same on any database
def test_every_page_passes_axe_and_has_44px_targets(audit_page, db):
    page = audit_page
    page.goto("/login")
    problems = {"/login": axe_violations(page)}
    small = {"/login": _small_targets(page)}
    who, paths = _pages(db)
    sign_in(page, who.username, who.password)
    for path in paths:
        page.goto(path)
        problems[path] = axe_violations(page)
        small[path] = _small_targets(page)
    # The confirmation screen and a form with errors, too.
    page.goto("/transfer")
    page.get_by_label("转账金额").fill("1")
    page.get_by_role("button", name="下一步").click()
    page.wait_for_url("**/transfer/review")
    problems["confirm"], small["confirm"] = axe_violations(page), _small_targets(page)
    page.goto("/transfer")
    page.get_by_label("转账金额").fill("abc")
    page.get_by_role("button", name="下一步").click()
    problems["errors"], small["errors"] = axe_violations(page), _small_targets(page)
    problems = {k: v for k, v in problems.items() if v}
    small = {k: v for k, v in small.items() if v}
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)
    assert not small, json.dumps(small, ensure_ascii=False, indent=1)


@pytest.mark.database_independent  # axe and page layout: the same on any database
def test_english_pages_passaxe_violations(audit_page, live_server, db):
    page = audit_page
    page.context.add_cookies([{"name": "atrium_locale", "value": "en", "url": live_server}])
    who, paths = _pages(db)
    page.goto("/login")
    assert not axe_violations(page)
    page.get_by_label("Username").fill(who.username)
    page.get_by_label("Password", exact=True).fill(who.password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    second_factor(page, who.phone, lang="en")
    page.wait_for_url("**/")
    problems = {}
    for path in paths:
        page.goto(path)
        problems[path] = axe_violations(page)
    problems = {k: v for k, v in problems.items() if v}
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)


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
