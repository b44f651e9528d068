"""/api/v1: every domain's endpoints, mounted in one place."""

from __future__ import annotations

from fastapi import APIRouter

from atrium.accounts.endpoints import router as accounts_router
from atrium.antiphishing.endpoints import router as phishing_router
from atrium.catalog.endpoints import router as catalog_router
from atrium.identity.devices.endpoints import router as devices_router
from atrium.identity.endpoints import router as auth_router
from atrium.identity.otp.endpoints import router as otp_router
from atrium.identity.passkeys.endpoints import router as passkeys_router
from atrium.identity.profile.endpoints import router as profile_router
from atrium.identity.protection.endpoints import router as protection_router
from atrium.ledger.endpoints import router as ledger_router
from atrium.limits.endpoints import router as limits_router
from atrium.messages.endpoints import router as messages_router
from atrium.payments.endpoints import router as payments_router
from atrium.payments.merchants.endpoints import router as merchants_router
from atrium.payments.orders.endpoints import router as orders_router
from atrium.payments.qr.endpoints import router as qr_router
from atrium.risk.endpoints import router as risk_router

api = APIRouter(prefix="/api/v1")


@api.get("/health", tags=["meta"])
def health() -> dict[str, str]:
    """Liveness: the process answers. Public."""
    return {"status": "ok"}


api.include_router(auth_router)
for identity_router in (otp_router, passkeys_router, devices_router, protection_router, profile_router):
    api.include_router(identity_router)
api.include_router(accounts_router)
api.include_router(limits_router)
api.include_router(payments_router)
api.include_router(merchants_router)
api.include_router(qr_router)
api.include_router(orders_router)
api.include_router(ledger_router)
api.include_router(phishing_router)
api.include_router(messages_router)
api.include_router(catalog_router)
api.include_router(risk_router)  # the decision API for external channels (channel keys, not sessions)
