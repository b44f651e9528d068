"""A live server whose app has the OpenID Connect provider and Atrium Life mounted (`oidc_app`), and a
phone-sized Chromium page on it (the shared `browser`; the same CSP and JavaScript-error watch)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tests.identity.oidc.support import oidc_app
from tests.web import browser_support as support


@pytest.fixture(scope="session")
def life_server(database) -> Iterator[str]:  # type: ignore[no-untyped-def]
    import uvicorn

    support._require_chromium()
    support._require_vendor()
    port = support._free_port()
    server = uvicorn.Server(
        uvicorn.Config(oidc_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, name="uvicorn-life-tests", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture()
def life_page(browser, life_server, db):  # type: ignore[no-untyped-def]
    context = browser.new_context(
        viewport=support.PHONE,
        locale="zh-CN",
        base_url=life_server,
        extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"},
    )
    context.set_default_timeout(10_000)
    context.add_init_script(support._WATCH_CSP)
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
