"""Mount the anti-phishing routes on a test app when the app does not mount them itself yet, grant the
console's `phishing.manage` action when the permission table does not have it yet, and read the
console's `*.phishing.json` catalogue files when the console's catalogue does not merge area files yet.
All are no-ops once `atrium.web.api.router`, the page registries, `atrium.staff.permissions` and
`atrium.web.staff.i18n` carry them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from atrium.antiphishing import service
from atrium.staff import permissions

MANAGE = "phishing.manage"


def _includes(routes: list, router: object) -> bool:  # type: ignore[type-arg]
    """Whether `router` is included anywhere below `routes` (FastAPI keeps included routers nested)."""
    for r in routes:
        inner = getattr(r, "original_router", None)
        if inner is router or (inner is not None and _includes(inner.routes, router)):
            return True
    return False


def grant_manage(monkeypatch: pytest.MonkeyPatch) -> None:
    if MANAGE in permissions.ACTIONS:
        return
    monkeypatch.setattr(permissions, "ACTIONS", (*permissions.ACTIONS, MANAGE))
    granted = {
        role: (actions | {MANAGE}) if role in service.CHANNEL_MANAGER_ROLES else actions
        for role, actions in permissions.PERMISSIONS.items()
    }
    monkeypatch.setattr(permissions, "PERMISSIONS", granted)


def merge_console_words(monkeypatch: pytest.MonkeyPatch) -> None:
    from atrium.web.staff import i18n

    if i18n.catalogue("zh").get("phishing.title"):
        return
    original = i18n.catalogue

    def merged(locale: str) -> dict[str, str]:
        with (Path(i18n.__file__).parent / f"{locale}.phishing.json").open(encoding="utf-8") as f:
            return {**original(locale), **json.load(f)}

    monkeypatch.setattr(i18n, "catalogue", merged)


def mount(app: FastAPI) -> FastAPI:
    from atrium.antiphishing.endpoints import router as api_router
    from atrium.web.mobile.pages.phishing import router as page_router
    from atrium.web.staff.pages.phishing import router as console_router

    if not _includes(app.router.routes, api_router):
        app.include_router(api_router, prefix="/api/v1")
    if not _includes(app.router.routes, page_router):
        app.include_router(page_router, include_in_schema=False)
    if not _includes(app.router.routes, console_router):
        app.include_router(console_router, include_in_schema=False)
        # Ahead of the console's catch-all "page not found" route.
        app.router.routes.insert(0, app.router.routes.pop())
    return app


def client_for(monkeypatch: pytest.MonkeyPatch) -> Iterator:  # type: ignore[type-arg]
    from fastapi.testclient import TestClient

    from atrium.app import create_app

    grant_manage(monkeypatch)
    merge_console_words(monkeypatch)
    with TestClient(mount(create_app(start_background=False))) as c:
        yield c
