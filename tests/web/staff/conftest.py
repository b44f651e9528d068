from __future__ import annotations

from collections.abc import Iterator

import pytest

# The browser fixtures (uvicorn on a free port, headless Chromium) come from tests/web/conftest.py.
from tests.web.browser_support import _WATCH_CSP
from tests.web.staff.factories import StaffUser, make_staff, sign_in

DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture()
def operator(db) -> StaffUser:  # type: ignore[no-untyped-def]
    return make_staff(db, "operator", username="op.li", display_name="李运营")


@pytest.fixture()
def as_operator(client, operator: StaffUser):  # type: ignore[no-untyped-def]
    sign_in(client, operator)
    return client


@pytest.fixture()
def desk_page(browser, live_server, db) -> Iterator:  # type: ignore[no-untyped-def, type-arg]  # noqa: F811
    """A desktop-sized page (1280×800) in a fresh context, Chinese; fails on JavaScript errors or CSP
    violations, as the mobile browser tests do."""
    context = browser.new_context(
        viewport=DESKTOP,
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
