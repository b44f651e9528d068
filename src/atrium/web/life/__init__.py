"""Atrium Life at /life: a small page set of its own (templates, stylesheet, words in Chinese and English)
for life services — utility bills, phone top-up, transit card — that signs customers in through the
bank's OpenID Connect provider, as any partner would, instead of asking for a password.

Its session lives server side (`atrium.identity.oidc.relying_party`, cookie `atrium_life`); the bank's
session cookie is never read by Life's pages except through the provider's authorization endpoint.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from atrium.web.life.pages import router
from atrium.web.life.templating import STATIC_DIR, STATIC_PREFIX
from atrium.web.mobile.routing import install_handlers

# Life authenticates with its own cookie (checked on every page against the provider), not with the
# bank's principal dependencies, so for the route audit all its pages are public.
PUBLIC_PAGES: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/life"),
        ("GET", "/life/login"),
        ("GET", "/life/callback"),
        ("POST", "/life/logout"),
        ("GET", "/life/signed-out"),
    }
)


def install(app: FastAPI) -> None:
    install_handlers(app)  # Life's pages fail through the same PageInterrupt as the mobile app's
    app.include_router(router)
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="life-static")


__all__ = ["PUBLIC_PAGES", "install", "router"]
