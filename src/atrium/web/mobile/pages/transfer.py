"""Transfer: pick the account to pay from and the payee, enter amount and memo → confirmation (summary,
no fee) → result. Refusals (insufficient funds, limits, switches) are shown inline, translated.

The bank's security checks decide before money moves: a challenge is the step-up page asking "was this
you?" with the reasons (and "this wasn't me", `/transfer/not-me`, which stops and reports the payment); a
held or declined payment still ends on the result page, which says why and what happens next.

In elder mode the confirmation also reads the payee and the amount back (the amount in words) and asks
the person to tick that they checked them; a confirm post without that tick — or with a tick for other
details — is refused with the read-back shown again, and nothing is sent (`readback`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from atrium.db.runtime import get_db
from atrium.identity.errors import StepUpRequired
from atrium.kit.errors import AtriumError, ValidationFailed
from atrium.payments import service as payments
from atrium.payments.schemas import TransactionSignatureIn
from atrium.web.deps import CurrentCustomer, ReadOnlySession, client_info
from atrium.web.mobile import csrf, display, messages, presenters, readback
from atrium.web.mobile.i18n.formatting import money
from atrium.web.mobile.pages.transfer_form import (
    NEW_NUMBER,
    Checked,
    Choices,
    Draft,
    check,
    load_choices,
    new_idempotency_key,
    valid_key,
)
from atrium.web.mobile.routing import PageRoute
from atrium.web.mobile.templating import redirect, render, translator

router = APIRouter(route_class=PageRoute)
CHANNEL = "mobile"
SigField = Annotated[str, Form(max_length=200)]  # the device's signature fields (device.js signForm)


def _draft(
    from_account_id: Annotated[str, Form(max_length=40)] = "",
    to: Annotated[str, Form(max_length=60)] = "",
    account_number: Annotated[str, Form(max_length=64)] = "",
    amount: Annotated[str, Form(max_length=40)] = "",
    memo: Annotated[str, Form(max_length=400)] = "",
    idempotency_key: Annotated[str, Form(max_length=100)] = "",
) -> Draft:
    return Draft(
        from_account_id=from_account_id,
        to=to,
        account_number=account_number,
        amount=amount,
        memo=memo,
        idempotency_key=idempotency_key,
    )


FormDraft = Annotated[Draft, Depends(_draft)]


def _form(
    request: Request,
    draft: Draft,
    choices: Choices,
    *,
    errors: dict[str, str] | None = None,
    alert: str | None = None,
    status_code: int = 200,
) -> Response:
    t = translator(request)
    source = choices.account(draft.from_account_id)
    return render(
        request,
        "pages/transfer.html",
        status_code=status_code,
        title=t("transfer.title"),
        tab="transfer",
        back="/",
        draft=draft,
        choices=choices,
        source=source,
        errors=errors or {},
        alert=alert,
        NEW_NUMBER=NEW_NUMBER,
        account_name=lambda a: presenters.account_name(a, t),
    )


@router.get("/transfer")
def transfer_form(
    request: Request,
    customer: CurrentCustomer,
    session: ReadOnlySession,
    from_account: Annotated[str, Query(alias="from", max_length=40)] = "",
    to: Annotated[str, Query(max_length=60)] = "",
) -> Response:
    choices = load_choices(session, customer.id)
    source = choices.account(from_account) or next(
        (a for a in choices.accounts if a.available_minor > 0),
        choices.accounts[0] if choices.accounts else None,
    )
    default_to = to or next(
        (
            f"own:{a.id}"
            for a in choices.accounts
            if source and a.id != source.id and a.currency == source.currency
        ),
        "",
    )
    draft = Draft(from_account_id=source.id if source else "", to=default_to or NEW_NUMBER)
    return _form(request, draft, choices)


@router.post("/transfer/review", dependencies=[Depends(csrf.verify)])
def transfer_review(
    request: Request, customer: CurrentCustomer, session: ReadOnlySession, draft: FormDraft
) -> Response:
    t = translator(request)
    if not valid_key(draft.idempotency_key):
        draft.idempotency_key = new_idempotency_key()  # nothing was paid with it yet: a fresh one is safe
    choices = load_choices(session, customer.id)
    checked, errors = check(session, draft, choices, t)
    if checked is None:
        return _form(request, draft, choices, errors=errors, status_code=422)
    return _confirmation(request, draft, checked)


def _readback(
    request: Request, draft: Draft, checked: Checked, error: str | None = None
) -> dict[str, str] | None:
    """Elder mode's read-back of this transfer (None in standard mode): the sentence, the token the
    confirmation box carries, and why a confirm post was refused, if it was."""
    if not display.is_elder(request):
        return None
    t = translator(request)
    currency = checked.source.currency
    sentence = t(
        "readback.transfer",
        payee=checked.to_name,
        amount=money(checked.amount_minor, currency, t.locale),
        words=readback.amount_in_words(checked.amount_minor, currency, t.locale),
    )
    token = readback.token(key=draft.idempotency_key, payee=payments.signing_payee(checked.destination),
                           amount_minor=checked.amount_minor, currency=currency)
    return {"sentence": sentence, "token": token, "error": error or ""}


def _confirmation(
    request: Request,
    draft: Draft,
    checked: Checked,
    *,
    readback_error: str | None = None,
    status_code: int = 200,
) -> Response:
    t = translator(request)
    return render(
        request,
        "pages/transfer_confirm.html",
        status_code=status_code,
        readback=_readback(request, draft, checked, readback_error),
        title=t("transfer.confirm.title"),
        tab="transfer",
        back=None,
        draft=draft,
        checked=checked,
        source_name=presenters.account_label(checked.source, t),
        signing={"payee": payments.signing_payee(checked.destination), "amount_minor": checked.amount_minor,
                 "currency": checked.source.currency},
    )


@router.post("/transfer/edit", dependencies=[Depends(csrf.verify)])
def transfer_edit(
    request: Request, customer: CurrentCustomer, session: ReadOnlySession, draft: FormDraft
) -> Response:
    """Back from the confirmation to the filled-in form (same idempotency key: nothing was paid)."""
    if not valid_key(draft.idempotency_key):
        draft.idempotency_key = new_idempotency_key()
    return _form(request, draft, load_choices(session, customer.id))


@router.post("/transfer/confirm", dependencies=[Depends(csrf.verify)])
def transfer_confirm(
    request: Request, customer: CurrentCustomer, session: ReadOnlySession, draft: FormDraft,
    step_up: Annotated[str | None, Form(max_length=4000)] = None,
    readback_token: Annotated[str, Form(alias=readback.FIELD, max_length=100)] = "",
    sig_device_id: SigField = "",
    sig_time: SigField = "",
    sig_nonce: SigField = "",
    sig_signature: SigField = "",
) -> Response:
    t = translator(request)
    if not valid_key(draft.idempotency_key):
        raise ValidationFailed("the transfer form lost its idempotency key")
    choices = load_choices(session, customer.id)
    checked, errors = check(session, draft, choices, t, against_balance=False)
    if checked is None:
        return _form(request, draft, choices, errors=errors, status_code=422)
    if display.is_elder(request) and not readback.confirmed(
        readback_token, key=draft.idempotency_key, payee=payments.signing_payee(checked.destination),
        amount_minor=checked.amount_minor, currency=checked.source.currency,
    ):
        # Elder mode sends nothing the person did not tick as checked, for exactly these details.
        why = t("readback.changed" if readback_token else "readback.required")
        return _confirmation(request, draft, checked, readback_error=why, status_code=422)
    signature = None
    if sig_device_id and sig_time and sig_nonce and sig_signature:
        signature = TransactionSignatureIn(device_id=sig_device_id, time=sig_time, nonce=sig_nonce,
                                           signature=sig_signature)
    session.close()  # the read snapshot is done with; the payment runs in its own transaction below
    try:
        done = get_db().run(
            lambda s: payments.transfer(
                s,
                customer_id=customer.id,
                idempotency_key=draft.idempotency_key,
                from_account_id=checked.source.id,
                to=checked.destination,
                amount_minor=checked.amount_minor,
                currency=checked.source.currency,
                memo=checked.memo,
                channel=CHANNEL,
                principal=customer,
                step_up=step_up,
                signature=signature,
                ip=client_info(request).ip,
            )
        )
    except StepUpRequired:
        raise  # the page route asks for the second factor and posts this form again
    except AtriumError as exc:
        if exc.code == "idempotency-key-reused":
            # This form already paid once with other details (a back-button edit): start a new transfer.
            draft.idempotency_key = new_idempotency_key()
            alert = t("transfer.error.resubmitted")
        else:
            alert = messages.describe(exc, t, currency=checked.source.currency)
        with get_db().read_session() as fresh:
            choices = load_choices(fresh, customer.id)
        return _form(request, draft, choices, alert=alert, status_code=422)
    return redirect(request, f"/transfer/result/{done.id}")


@router.post("/transfer/not-me", dependencies=[Depends(csrf.verify)])
def transfer_not_me(
    request: Request, customer: CurrentCustomer, session: ReadOnlySession, draft: FormDraft
) -> Response:
    """Asked "was this you?", the customer says no: the payment is stopped for good (its form can never pay
    it) and reported to the security team."""
    t = translator(request)
    if not valid_key(draft.idempotency_key):
        raise ValidationFailed("the transfer form lost its idempotency key")
    choices = load_choices(session, customer.id)
    checked, errors = check(session, draft, choices, t, against_balance=False)
    if checked is None:
        return _form(request, draft, choices, errors=errors, status_code=422)
    session.close()
    done = get_db().run(
        lambda s: payments.report_not_me(
            s, customer_id=customer.id, idempotency_key=draft.idempotency_key,
            from_account_id=checked.source.id, to=checked.destination, amount_minor=checked.amount_minor,
            currency=checked.source.currency, memo=checked.memo, channel=CHANNEL, principal=customer,
            ip=client_info(request).ip,
        )
    )
    return redirect(request, f"/transfer/result/{done.id}")


@router.get("/transfer/result/{transfer_id}")
def transfer_result(
    request: Request, transfer_id: str, customer: CurrentCustomer, session: ReadOnlySession
) -> Response:
    t = translator(request)
    done = payments.get_transfer(session, customer_id=customer.id, transfer_id=transfer_id)
    choices = load_choices(session, customer.id)
    source = choices.account(done.from_account_id)
    own = choices.account(done.to.account_id) if done.to.account_id else None
    return render(
        request,
        "pages/transfer_result.html",
        tab="scan" if done.kind == "qr" else "transfer",
        title=t("qr.result.title" if done.kind == "qr" else "transfer.result.title"),
        transfer=done,
        source=source,
        source_name=presenters.account_label(source, t) if source else "",
        to_name=presenters.account_label(own, t) if own else done.to.display,
        reasons=payments.risk_texts(done.risk_reasons, t.locale) if done.status == "declined" else [],
    )
