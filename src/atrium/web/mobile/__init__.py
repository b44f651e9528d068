"""The customer mobile web app: an installable PWA rendered on the server (Jinja2 + htmx), in Chinese and
English, served at `/` by the same process as the API.

Pages call domain services directly (never the JSON API over HTTP, never a repository). Reads use a
read-only session; a page that moves money runs its use case in `Database.run` (one transaction, retried
on transient conflicts, rolled back whole when the domain refuses) and shows the refusal inline.
Form posts and htmx writes carry a signed double-submit CSRF token (`csrf`). Unauthenticated page
requests go to /login with a 303 (`routing.PageRoute`), never to a JSON problem. Every page route depends
on `display.resolve`, so pages and templates know the person's display mode (standard or elder).
"""

from __future__ import annotations

from fastapi import Depends, FastAPI

from atrium.web.mobile import display
from atrium.web.mobile.pages import router
from atrium.web.mobile.routing import install_handlers
from atrium.web.mobile.templating import STATIC_DIR, STATIC_PREFIX, VENDOR_DIR, VENDOR_PREFIX
from atrium.web.static_files import static_app

# Page routes anyone may open (by method and path); everything else needs a customer session.
PUBLIC_PAGES: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/login"),
        ("POST", "/login"),
        ("POST", "/login/verify"),
        ("POST", "/login/verify/send"),
        ("POST", "/login/sms"),
        ("POST", "/login/sms/send"),
        ("GET", "/register"),
        ("POST", "/register/phone"),
        ("POST", "/register/code"),
        ("POST", "/register/details"),
        ("POST", "/register/password-check"),
        ("GET", "/dev/sms"),
        ("GET", "/phishing-check"),
        ("POST", "/phishing-check"),
        ("POST", "/logout"),
        ("POST", "/locale"),
        ("POST", "/display-mode"),
        ("GET", "/manifest.webmanifest"),
        ("GET", "/sw.js"),
        ("GET", "/offline"),
    }
)


def install(app: FastAPI) -> None:
    """Mount the pages, their static files and the shared vendor folder, and the page error handler."""
    install_handlers(app)
    # The display mode first: the page itself, its title and its refusals are drawn in it.
    app.include_router(router, dependencies=[Depends(display.resolve)])
    app.mount(STATIC_PREFIX, static_app(STATIC_DIR), name="mobile-static")
    if not any(getattr(r, "path", None) == VENDOR_PREFIX for r in app.routes):
        # check_dir=False: a checkout that has not run `python -m atrium.web.assets` still starts
        # (its pages then lack htmx and work as plain forms).
        app.mount(VENDOR_PREFIX, static_app(VENDOR_DIR, check_dir=False), name="vendor")


__all__ = ["PUBLIC_PAGES", "install", "router"]
