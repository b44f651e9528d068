"""/merchant: the merchant overview for a session acting as a merchant.

The merchant is the one the session's identity names (its `org_ref` is the merchant id; identities are
given by staff or the demo seeder, and a session can only act as its own customer's identities), read
through the payments services: its details and settlement balances (`merchants.get_merchant`), the
payments it received (the credits to its settlement accounts, `ledger.list_entries`), and collection
codes (`qr.issue_qr`): a standing code without an amount (any customer types what they pay; it lives
`STANDING_DAYS`) or a code for one order with a fixed amount (payable once, for the QR service's default
lifetime). Codes are signed, not stored — issuing one is a POST, never a side effect of viewing.

A session that does not act as a merchant is sent to /identities with a note.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from atrium.catalog import service as catalog
from atrium.identity.identities import IdentityRead
from atrium.kit import clock
from atrium.kit.money import MAX_AMOUNT_MINOR, parse_major
from atrium.ledger import service as ledger
from atrium.ledger.schemas import EntryRead
from atrium.payments.merchants import service as merchants
from atrium.payments.merchants.schemas import MerchantRead
from atrium.payments.qr import render as qr_render
from atrium.payments.qr import service as qr
from atrium.payments.qr.schemas import DEFAULT_TTL_S, QrIssued
from atrium.web.deps import CurrentCustomer, ReadOnlySession, WriteSession
from atrium.web.mobile import csrf, shell
from atrium.web.mobile.i18n import Translator
from atrium.web.mobile.i18n.formatting import local
from atrium.web.mobile.routing import PageRoute
from atrium.web.mobile.templating import redirect, render, translator

router = APIRouter(route_class=PageRoute)
PATH = "/merchant"
RECENT = 10
STANDING_DAYS = 30
REFERENCE_MAX = 32


@dataclass(frozen=True, slots=True)
class Draft:
    """The collection-code form as typed (shown again with its errors)."""

    currency: str = "CNY"
    amount: str = ""
    reference: str = ""


def _merchant_identity(session: Session, request: Request) -> IdentityRead | None:
    identity = shell.context(request, session).identity
    return identity if identity is not None and identity.kind == "merchant" else None


def received(session: Session, merchant: MerchantRead, limit: int = RECENT) -> list[EntryRead]:
    """The latest payments into the merchant's settlement accounts (credits), newest first."""
    entries = [
        e for b in merchant.balances
        for e in ledger.list_entries(session, b.ledger_account_id, direction="credit", limit=limit).items
    ]
    entries.sort(key=lambda e: (e.posted_at, e.id), reverse=True)
    return entries[:limit]


def _page(
    request: Request, session: Session, identity: IdentityRead, *, draft: Draft | None = None,
    errors: dict[str, str] | None = None, issued: QrIssued | None = None, status_code: int = 200,
) -> Response:
    t = translator(request)
    merchant = merchants.get_merchant(session, identity.org_ref)
    ctx = shell.context(request, session)
    services = shell.organisation_services(catalog.visible_services(session, ctx.viewer), "merchant", PATH)
    person = shell.person_identity(session, ctx.customer_id)
    code = Markup(qr_render.svg(issued.payload, scale=6)) if issued else None  # noqa: S704 - segno's own SVG
    return render(
        request, "pages/merchant.html", status_code=status_code, title=t("shell.merchant.title"),
        tab=shell.current_tab(request, PATH), back="/", identity=identity, merchant=merchant,
        role=shell.role_label(identity.role, t) if identity.role else t("shell.role.none"),
        received=received(session, merchant), services=services, person=person, href=shell.tile_href,
        draft=draft or Draft(currency=merchant.balances[0].currency if merchant.balances else "CNY"),
        errors=errors or {}, issued=issued, code=code, standing_days=STANDING_DAYS,
    )


@router.get(PATH)
def merchant_page(request: Request, customer: CurrentCustomer, session: ReadOnlySession) -> Response:
    identity = _merchant_identity(session, request)
    if identity is None:
        return redirect(request, "/identities?need=merchant")
    return _page(request, session, identity)


def _validate(
    draft: Draft, merchant: MerchantRead, t: Translator
) -> tuple[int | None, str, dict[str, str]]:
    """The amount in minor units (None: a standing code), the reference (a time stamp when left empty) and
    the errors, per field, in the page's language."""
    errors: dict[str, str] = {}
    if draft.currency not in {b.currency for b in merchant.balances}:
        errors["currency"] = t("shell.merchant.error.currency")
    amount_minor: int | None = None
    if draft.amount and "currency" not in errors:
        try:
            amount_minor = parse_major(draft.amount, draft.currency)
        except ValueError:
            amount_minor = None
        if amount_minor is None or not 0 < amount_minor <= MAX_AMOUNT_MINOR:
            errors["amount"] = t("shell.merchant.error.amount")
    reference = draft.reference or local(clock.now()).strftime("M%Y%m%d%H%M%S")
    if len(reference) > REFERENCE_MAX or not reference.isprintable():
        errors["reference"] = t("shell.merchant.error.reference", max=REFERENCE_MAX)
    return amount_minor, reference, errors


@router.post(f"{PATH}/qr", dependencies=[Depends(csrf.verify)])
def issue_code(
    request: Request, customer: CurrentCustomer, session: WriteSession,
    currency: Annotated[str, Form(max_length=3)] = "CNY",
    amount: Annotated[str, Form(max_length=48)] = "",
    reference: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Issue a collection code for the merchant the session acts as: without an amount a standing code,
    with one a code for a single order. Bad input shows the form again with what to fix (422)."""
    identity = _merchant_identity(session, request)
    if identity is None:
        return redirect(request, "/identities?need=merchant")
    merchant = merchants.get_merchant(session, identity.org_ref)
    draft = Draft(currency=currency.strip().upper(), amount=amount.strip(), reference=reference.strip())
    amount_minor, label, errors = _validate(draft, merchant, translator(request))
    if errors:
        return _page(request, session, identity, draft=draft, errors=errors, status_code=422)
    ttl = timedelta(seconds=DEFAULT_TTL_S) if amount_minor is not None else timedelta(days=STANDING_DAYS)
    issued = qr.issue_qr(session, merchant_id=merchant.id, currency=draft.currency, reference=label,
                         amount_minor=amount_minor, ttl=ttl)
    return _page(request, session, identity, draft=draft, issued=issued)
