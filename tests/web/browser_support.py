"""Browser tests: the real app served by uvicorn (in a thread, on a free port, against the test database)
and driven by headless Chromium through Playwright's sync API.

They are skipped only when /usr/bin/chromium is absent on a developer's machine; under CI=true a missing
Chromium fails the run instead of silently skipping the whole browser suite.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
VENDOR = ROOT / "src" / "atrium" / "web" / "static" / "vendor"
# axe-core comes from npm like the vendor files but is never served (the vendor folder is public).
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"




def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{CHROMIUM} is missing: CI must run the browser tests (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} is not installed")


def _require_vendor() -> None:
    missing = [str(p) for p in (VENDOR / "htmx.min.js", AXE) if not p.is_file()]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: run `npm ci && python -m atrium.web.assets`")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(database) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The whole app (API, pages, static files) on a free local port, sharing the test database."""
    import uvicorn

    from atrium.app import create_app

    _require_chromium()
    _require_vendor()
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(start_background=False),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
        )
    )
    thread = threading.Thread(target=server.run, name="uvicorn-browser-tests", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


class _Shared:
    """One Chromium for a run of browser modules. A running sync Playwright keeps its event loop current in
    this thread, and code under test that calls asyncio.run() (the benchmarks, the relay) must not meet it:
    tests/conftest.py runs the modules that use the browser one after another and closes it (`close_browser`)
    before any other module. Starting Playwright and Chromium costs ~1 s a module otherwise."""

    playwright: object | None = None
    chromium: object | None = None


def close_browser() -> None:
    if _Shared.playwright is not None:
        try:
            _Shared.chromium.close()  # type: ignore[attr-defined]
        finally:
            _Shared.playwright.stop()  # type: ignore[attr-defined]
            _Shared.playwright = _Shared.chromium = None


@pytest.fixture(scope="module")
def browser() -> Iterator:  # type: ignore[type-arg]
    _require_chromium()
    if _Shared.chromium is not None and not _Shared.chromium.is_connected():  # type: ignore[attr-defined]
        close_browser()  # it crashed in an earlier module: a fresh one
    if _Shared.chromium is None:
        from playwright.sync_api import sync_playwright

        _Shared.playwright = sync_playwright().start()
        _Shared.chromium = _Shared.playwright.chromium.launch(  # type: ignore[attr-defined]
            executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
    yield _Shared.chromium


# Every page records Content-Security-Policy violations; a test fails if any happened (the CSP forbids
# inline code, so a violation means something on the page silently did not work).
_WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(
  e.violatedDirective + ' ' + (e.sourceFile || '') + ':' + e.lineNumber + ' ' + (e.sample || '')));
"""


@pytest.fixture()
def page(browser, live_server, db):  # type: ignore[no-untyped-def]
    """A phone-sized page (390×844) in a fresh browser context (no cookies), Chinese by default."""
    context = browser.new_context(
        viewport=PHONE,
        locale="zh-CN",
        base_url=live_server,
        extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"},
    )
    context.set_default_timeout(10_000)
    context.add_init_script(_WATCH_CSP)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    try:
        violations = pg.evaluate("window.__cspViolations || []") if not pg.is_closed() else []
    finally:
        context.close()
    assert not errors, f"JavaScript errors: {errors}"
    assert not violations, f"CSP violations: {violations}"


def shoot(pg, name: str) -> Path:  # type: ignore[no-untyped-def]
    """Save a viewport screenshot to test-artifacts/screenshots/<name>.png (git-ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    pg.screenshot(path=str(path))
    return path


SECOND_FACTOR = {
    "zh": ("^发送验证码至", "短信验证码", "验证并登录"),
    "en": ("^Send a code to", "SMS code", "Verify and sign in"),
}


def second_factor(pg, phone: str, *, lang: str = "zh") -> None:  # type: ignore[no-untyped-def]
    """On the second-factor page after the password: send the SMS code, read it from the development
    outbox, enter it; the browser then lands where it was going."""
    send, field, submit = SECOND_FACTOR[lang]
    pg.locator('form[action="/login/verify/send"]').wait_for()
    pg.get_by_role("button", name=re.compile(send)).click()
    pg.get_by_role("textbox", name=field).fill(last_code_of(phone))
    pg.get_by_role("button", name=submit).click()


def sign_in(pg, username: str, password: str, *, phone: str | None = None, sms: bool = True) -> None:  # type: ignore[no-untyped-def]
    """Sign in as a customer does (Chinese pages): username and password; then (`sms`: the customer has a
    phone on file — `phone`, default `phone_for(username)`) the second-factor page."""
    from tests.auth_support import phone_for

    pg.goto("/login")
    pg.get_by_label("用户名").fill(username)
    pg.get_by_label("登录密码", exact=True).fill(password)
    pg.get_by_role("button", name="登录", exact=True).click()
    if sms:
        second_factor(pg, phone or phone_for(username))
    pg.wait_for_url("**/")


def complete_step_up(pg, phone: str) -> None:  # type: ignore[no-untyped-def]
    """On the step-up page: send the SMS code, enter it, confirm (the page then repeats the action)."""
    pg.get_by_role("button", name="发送验证码至预留手机").click()
    pg.get_by_label("6 位验证码").first.fill(last_code_of(phone))
    pg.get_by_role("button", name="确认").first.click()


def last_code_of(phone: str) -> str:
    from tests.auth_support import last_code

    return last_code(phone)


# WCAG 2.2 AA as axe-core tags it.
def load_axe_in_every_page(context) -> None:  # type: ignore[no-untyped-def]
    """For a context that audits page after page: axe-core is evaluated as each page starts instead of
    being sent over and parsed once more per audit (~50 ms a page, measured)."""
    context.add_init_script(path=str(AXE))


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# What every page test runs: the tags' rules; violations in full, one node each of passes and the rest
# (`resultTypes`: axe's documented way to run faster, ~20 % off the sweep; only violations are read).
AXE_RUN = "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})"


def axe_violations(page) -> list[dict]:  # type: ignore[no-untyped-def]
    """Run axe-core (vendored from npm) on the page; its violations, briefly. The page's context must
    bypass the CSP (axe is injected as a script), unless it loads axe into every page itself
    (`load_axe_in_every_page`)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(AXE_RUN, AXE_TAGS)
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "nodes": [n["target"] for n in v["nodes"][:5]],
            "summary": v["nodes"][0].get("failureSummary", "")[:300],
        }
        for v in result["violations"]
    ]
