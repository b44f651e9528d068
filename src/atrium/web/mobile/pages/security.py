"""The security centre: one page that shows how the customer's sign-in and payments are protected, each
line opening the page that changes it (payment controls, devices, sessions, sign-in history, passkeys,
authenticator app, password, personal details, the phishing check)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from atrium.identity import service as identity
from atrium.identity import sessions
from atrium.identity.devices import service as devices
from atrium.identity.otp import totp
from atrium.identity.passkeys import service as passkeys
from atrium.identity.pii import mask_phone
from atrium.limits import service as limits
from atrium.web.deps import CurrentCustomer, ReadOnlySession
from atrium.web.mobile.routing import PageRoute
from atrium.web.mobile.templating import render, translator

router = APIRouter(route_class=PageRoute)


@dataclass(frozen=True)
class Line:
    href: str
    icon: str
    title: str  # message id
    status: str  # already translated
    warn: bool = False


@router.get("/security")
def security_centre(request: Request, customer: CurrentCustomer, session: ReadOnlySession) -> Response:
    t = translator(request)
    me = identity.get_customer(session, customer.id)
    phone = identity.phone_of(me) if me else None
    live = sessions.list_sessions(session, customer.id)
    own_devices = devices.list_devices(session, customer.id)
    cooling = customer.device_id is not None and devices.cooling_off(session, customer.device_id)
    keys = passkeys.list_passkeys(session, customer.id)
    has_totp = totp.is_enrolled(session, customer.id)
    switches = limits.get_switches(session, customer.id)
    on = sum(
        1
        for name in ("online_payments", "overseas", "night_time", "qr_payments", "card_not_present")
        if getattr(switches, name, False)
    )
    lines = [
        Line("/limits", "shield", "security.line.payments", t("security.status.switches_on", count=on)),
        Line(
            "/security/devices",
            "phone",
            "security.line.devices",
            t("security.status.cooling") if cooling else t("security.status.devices", count=len(own_devices)),
            warn=cooling,
        ),
        Line(
            "/security/sessions",
            "key",
            "security.line.sessions",
            t("security.status.sessions", count=len(live)),
        ),
        Line("/security/history", "clock", "security.line.history", t("security.status.history")),
        Line(
            "/security/passkeys",
            "fingerprint",
            "security.line.passkeys",
            t("security.status.passkeys", count=len(keys)) if keys else t("security.status.none"),
            warn=not keys,
        ),
        Line(
            "/security/totp",
            "key",
            "security.line.totp",
            t("security.status.on") if has_totp else t("security.status.off"),
        ),
        Line("/security/password", "lock", "security.line.password", t("security.status.password")),
        Line(
            "/profile",
            "user",
            "security.line.profile",
            mask_phone(phone) if phone else t("security.status.no_phone"),
            warn=phone is None,
        ),
        Line("/phishing-check", "alert", "security.line.phishing", t("security.status.phishing")),
    ]
    return render(
        request,
        "pages/security/index.html",
        title=t("security.centre.title"),
        tab="me",
        back="/settings",
        lines=lines,
        level=customer.loa,
        cooling=cooling,
    )
