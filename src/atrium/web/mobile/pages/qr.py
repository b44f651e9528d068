"""QR pay: scan (camera via BarcodeDetector where the browser has it, else paste or upload the code's
text) → the merchant and amount from the signed payload → pick the account → pay → the result screen.

Nothing in a payload is shown before `parse_qr` has verified its signature; the payment itself goes
through `pay_qr` (the customer's QR switch and QR limits apply) with an idempotency key minted when the
confirmation is rendered, so a double tap pays once.

The bank's security checks see the payment as they see a transfer — the signed-in customer, their device
and the client's IP: a challenge is the step-up page asking "was this you?" with the reasons (the form is
posted again once it is answered, and pays once) or "this wasn't me" (`/pay/qr/not-me`), which stops the
payment for good and reports it; a held, declined or stopped payment ends on the result page, which says
why and what happens next, as a transfer's does.

In elder mode the confirmation reads the merchant and the amount back (in words) and pays only with the
person's tick for exactly that payment (`readback`); a code without an amount is read back once the amount
is typed, so its first post shows the read-back instead of paying.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from atrium.accounts.schemas import DepositAccountRead
from atrium.db.runtime import get_db
from atrium.identity.errors import StepUpRequired
from atrium.kit.errors import AtriumError, ValidationFailed
from atrium.kit.money import parse_major
from atrium.payments.qr import service as qr
from atrium.payments.qr.schemas import QrDetails
from atrium.web.deps import CurrentCustomer, ReadOnlySession, client_info
from atrium.web.mobile import csrf, display, messages, presenters, readback
from atrium.web.mobile.i18n.formatting import money
from atrium.web.mobile.pages.transfer_form import load_choices, new_idempotency_key, valid_key
from atrium.web.mobile.routing import PageRoute
from atrium.web.mobile.templating import redirect, render, translator

router = APIRouter(route_class=PageRoute)
CHANNEL = "mobile"
MAX_PAYLOAD = 2_000

Payload = Annotated[str, Form(max_length=MAX_PAYLOAD)]


def _scan(
    request: Request, *, payload: str = "", error: str | None = None, status_code: int = 200
) -> Response:
    return render(
        request,
        "pages/qr_scan.html",
        status_code=status_code,
        title=translator(request)("qr.title"),
        tab="scan",
        back="/",
        payload=payload,
        error=error,
    )


@router.get("/pay/qr")
def qr_scan(request: Request, customer: CurrentCustomer) -> Response:
    return _scan(request)


def _payee(details: QrDetails) -> str:
    """What the read-back token binds the payment to: the merchant and the code's reference."""
    return f"merchant:{details.merchant.id}:{details.reference}"


def _amount_minor(details: QrDetails, amount: str) -> int | None:
    """The code's fixed amount, or the typed one when it is a positive amount; None otherwise."""
    if details.amount_minor is not None:
        return details.amount_minor
    try:
        typed = parse_major(amount, details.currency) if amount.strip() else None
    except ValueError:
        return None
    return typed if typed is not None and typed > 0 else None


def _readback(
    request: Request, details: QrDetails, amount: str, idempotency_key: str, error: str | None
) -> dict[str, str] | None:
    """Elder mode's read-back (None in standard mode, or while an open amount is not typed yet)."""
    amount_minor = _amount_minor(details, amount)
    if not display.is_elder(request) or amount_minor is None:
        return None
    t = translator(request)
    sentence = t(
        "readback.qr",
        payee=details.merchant.name,
        amount=money(amount_minor, details.currency, t.locale),
        words=readback.amount_in_words(amount_minor, details.currency, t.locale),
    )
    token = readback.token(key=idempotency_key, payee=_payee(details), amount_minor=amount_minor,
                           currency=details.currency)
    return {"sentence": sentence, "token": token, "error": error or ""}


def _confirm(
    request: Request,
    *,
    payload: str,
    details: QrDetails,
    accounts: list[DepositAccountRead],
    from_account_id: str,
    amount: str,
    idempotency_key: str,
    errors: dict[str, str] | None = None,
    alert: str | None = None,
    readback_error: str | None = None,
    status_code: int = 200,
) -> Response:
    t = translator(request)
    usable = [a for a in accounts if a.currency == details.currency]
    if not any(a.id == from_account_id for a in usable):
        from_account_id = next(
            (a.id for a in usable if a.available_minor > 0), usable[0].id if usable else ""
        )
    return render(
        request,
        "pages/qr_confirm.html",
        status_code=status_code,
        title=t("qr.confirm.title"),
        tab="scan",
        back="/pay/qr",
        payload=payload,
        details=details,
        accounts=usable,
        from_account_id=from_account_id,
        amount=amount,
        idempotency_key=idempotency_key,
        errors=errors or {},
        alert=alert,
        readback=_readback(request, details, amount, idempotency_key, readback_error),
        elder=display.is_elder(request),
        account_name=lambda a: presenters.account_name(a, t),
    )


@router.post("/pay/qr/review", dependencies=[Depends(csrf.verify)])
def qr_review(
    request: Request, customer: CurrentCustomer, session: ReadOnlySession, payload: Payload = ""
) -> Response:
    t = translator(request)
    payload = payload.strip()
    if not payload:
        return _scan(request, error=t("qr.error.empty"), status_code=422)
    try:
        details = qr.parse_qr(session, payload)
    except AtriumError as exc:
        return _scan(request, payload=payload, error=messages.describe(exc, t), status_code=422)
    if details.already_paid:
        return _scan(request, payload=payload, error=t("error.qr-already-paid"), status_code=422)
    accounts = load_choices(session, customer.id).accounts
    return _confirm(
        request,
        payload=payload,
        details=details,
        accounts=accounts,
        from_account_id="",
        amount="",
        idempotency_key=new_idempotency_key(),
    )


@router.post("/pay/qr/confirm", dependencies=[Depends(csrf.verify)])
def qr_confirm(
    request: Request,
    customer: CurrentCustomer,
    session: ReadOnlySession,
    payload: Payload = "",
    from_account_id: Annotated[str, Form(max_length=40)] = "",
    amount: Annotated[str, Form(max_length=40)] = "",
    idempotency_key: Annotated[str, Form(max_length=100)] = "",
    readback_token: Annotated[str, Form(alias=readback.FIELD, max_length=100)] = "",
    step_up: Annotated[str | None, Form(max_length=4000)] = None,
) -> Response:
    t = translator(request)
    if not valid_key(idempotency_key):
        raise ValidationFailed("the payment form lost its idempotency key")
    payload = payload.strip()
    try:
        details = qr.parse_qr(session, payload)
    except AtriumError as exc:
        return _scan(request, payload=payload, error=messages.describe(exc, t), status_code=422)
    accounts = load_choices(session, customer.id).accounts
    again = {
        "payload": payload,
        "details": details,
        "accounts": accounts,
        "from_account_id": from_account_id,
        "amount": amount,
        "idempotency_key": idempotency_key,
    }
    amount_minor: int | None = None
    if details.amount_minor is None:
        try:
            amount_minor = parse_major(amount, details.currency) if amount.strip() else None
        except ValueError:
            amount_minor = None
        if amount_minor is None or amount_minor <= 0:
            return _confirm(
                request, **again, errors={"amount": t("transfer.error.amount_format")}, status_code=422
            )
    if not any(a.id == from_account_id and a.currency == details.currency for a in accounts):
        return _confirm(
            request, **again, errors={"from_account_id": t("transfer.error.from")}, status_code=422
        )
    if display.is_elder(request) and not readback.confirmed(
        readback_token, key=idempotency_key, payee=_payee(details),
        amount_minor=_amount_minor(details, amount) or 0, currency=details.currency,
    ):
        # Elder mode pays nothing the person did not tick as checked, for exactly this amount and shop. A
        # code without an amount meets its read-back only now: that first time is a step, not a refusal.
        if details.amount_minor is None and not readback_token:
            return _confirm(request, **again)
        why = t("readback.changed" if readback_token else "readback.required")
        return _confirm(request, **again, readback_error=why, status_code=422)
    session.close()
    try:
        done = get_db().run(
            lambda s: qr.pay_qr(
                s,
                customer_id=customer.id,
                idempotency_key=idempotency_key,
                from_account_id=from_account_id,
                payload=payload,
                amount_minor=amount_minor,
                channel=CHANNEL,
                principal=customer,
                step_up=step_up,
                ip=client_info(request).ip,
            )
        )
    except StepUpRequired:
        raise  # the page route asks "was this you?" and posts this form again with the answer
    except AtriumError as exc:
        with get_db().read_session() as fresh:
            again["accounts"] = load_choices(fresh, customer.id).accounts
        return _confirm(
            request, **again, alert=messages.describe(exc, t, currency=details.currency), status_code=422
        )
    return redirect(request, f"/transfer/result/{done.id}")


@router.post("/pay/qr/not-me", dependencies=[Depends(csrf.verify)])
def qr_not_me(
    request: Request,
    customer: CurrentCustomer,
    session: ReadOnlySession,
    payload: Payload = "",
    from_account_id: Annotated[str, Form(max_length=40)] = "",
    amount: Annotated[str, Form(max_length=40)] = "",
    idempotency_key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Asked "was this you?" about a QR payment, the customer says no: the payment is stopped for good (its
    form can never pay it) and reported to the security team. The challenge page posts the confirmation's
    own fields here, so this is the same request `qr_confirm` made — even if the code has expired since."""
    t = translator(request)
    if not valid_key(idempotency_key):
        raise ValidationFailed("the payment form lost its idempotency key")
    payload = payload.strip()
    try:
        details = qr.parse_qr(session, payload, expired_ok=True)
    except AtriumError as exc:
        return _scan(request, payload=payload, error=messages.describe(exc, t), status_code=422)
    # As `qr_confirm` asks it: a fixed-amount code's amount comes from the code, an open one's as typed.
    amount_minor = None if details.amount_minor is not None else _amount_minor(details, amount)
    session.close()
    done = get_db().run(
        lambda s: qr.report_qr_not_me(
            s, customer_id=customer.id, idempotency_key=idempotency_key, from_account_id=from_account_id,
            payload=payload, amount_minor=amount_minor, channel=CHANNEL, principal=customer,
            ip=client_info(request).ip,
        )
    )
    return redirect(request, f"/transfer/result/{done.id}")
