"""The mobile app's pages, one module per area; `router` holds them all."""

from fastapi import APIRouter

from atrium.web.mobile.pages import (
    auth,
    biz,
    dev_outbox,
    home,
    identities,
    limits,
    merchant,
    messages,
    phishing,
    profile,
    pwa,
    qr,
    register,
    security,
    security_devices,
    security_passkeys,
    security_password,
    security_sessions,
    security_totp,
    services,
    settings,
    statement,
    stepup,
    transfer,
    transfer_history,
)

router = APIRouter()
for area in (
    auth, register, pwa, settings, home, statement, transfer, limits, qr, stepup, profile, phishing, security,
    security_devices, security_sessions, security_passkeys, security_totp, security_password, dev_outbox,
    services, identities, biz, merchant, messages,
    transfer_history,
):
    router.include_router(area.router, include_in_schema=False)
