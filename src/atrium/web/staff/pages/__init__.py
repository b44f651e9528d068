"""The console's pages, one module per area; `router` holds them all (every path under /staff)."""

from fastapi import APIRouter

from atrium.web.staff.pages import (
    audit,
    auth,
    customers,
    dashboard,
    fallback,
    limits,
    merchants,
    phishing,
    unlock,
)

router = APIRouter()
for area in (
    auth,
    dashboard,
    customers,
    unlock,
    audit,
    limits,
    merchants,
    phishing,
    fallback,
):  # fallback last
    router.include_router(area.router, include_in_schema=False)
