"""The staff console at /staff: server-rendered pages (Jinja2 + htmx), desktop first, in Chinese and English.

It stands on the mobile app's machinery, imported rather than copied: the session cookie and its CSRF
token (`atrium.web.mobile.csrf`), the locale negotiation, language switch and Babel filters, the response
headers (no-store, CSP). Pages call domain services directly; every page checks the staff role against
`atrium.staff.permissions` (`routing.permit`), and every read of a customer's data goes through
`atrium.staff.service`, which masks it and records the access in the same transaction.
"""

from __future__ import annotations

from fastapi import FastAPI

from atrium.web.mobile.routing import install_handlers
from atrium.web.mobile.templating import VENDOR_DIR, VENDOR_PREFIX
from atrium.web.staff.pages import router
from atrium.web.staff.templating import STATIC_DIR, STATIC_PREFIX
from atrium.web.static_files import static_app

# Console routes anyone may open; everything else needs a staff session (and a role that allows it).
PUBLIC_PAGES: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/staff/login"),
        ("POST", "/staff/login"),
        ("POST", "/staff/logout"),
    }
)


def install(app: FastAPI) -> None:
    """Mount the console's pages and static files (and the shared vendor folder, if nobody has yet)."""
    install_handlers(app)  # console pages fail as pages, through the same PageInterrupt as the mobile app's
    app.include_router(router)
    app.mount(STATIC_PREFIX, static_app(STATIC_DIR), name="staff-static")
    if not any(getattr(r, "path", None) == VENDOR_PREFIX for r in app.routes):
        app.mount(VENDOR_PREFIX, static_app(VENDOR_DIR, check_dir=False), name="vendor")


__all__ = ["PUBLIC_PAGES", "install", "router"]
