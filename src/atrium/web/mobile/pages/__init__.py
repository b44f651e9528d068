"""The mobile app's pages, one module per area; `router` holds them all."""

from fastapi import APIRouter

from atrium.web.mobile.pages import auth, home, limits, pwa, qr, settings, statement, transfer

router = APIRouter()
for area in (auth, pwa, settings, home, statement, transfer, limits, qr):
    router.include_router(area.router, include_in_schema=False)
