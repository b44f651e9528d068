"""Fixtures shared by every web test. The browser fixtures are defined once here, so the mobile and the
staff browser tests share one Playwright instance per worker (two sync Playwright instances cannot run in
one thread)."""

from tests.web.browser_support import browser, live_server, page  # noqa: F401
