"""Pay a scanned QR code: verify it, then move the money through the payments core (method `qr_payment`)
to the merchant's settlement account, recording the payment so a fixed-amount code is paid only once.

The payment passes the risk decision first (risk channel "qr", the merchant as terminal): a challenge is a
step-up bound to merchant, reference, amount and currency (for a customer present to answer it; without
one, a review); a held payment completes, and says so, only when an analyst releases it
(`released`); a declined or cancelled one leaves the code payable by someone else (`free_code`).

"This wasn't me" on the challenge (`report_qr_not_me`) is the transfers' `report_not_me` for a code: the
decision is labelled fraud and the payment recorded `cancelled` (`not-me`) under the same idempotency key,
through the same `execute` and `disown` steps, so the confirmed form can never pay it afterwards."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from atrium.accounts import service as accounts
from atrium.accounts.schemas import DepositAccountRead
from atrium.events import outbox
from atrium.events.catalogue import QrPaymentCompleted
from atrium.identity import stepup
from atrium.identity.principal import Principal
from atrium.kit import clock
from atrium.kit.errors import IdempotencyConflict
from atrium.kit.hashing import fingerprint
from atrium.kit.ids import new_id
from atrium.payments import domain as payments_domain
from atrium.payments import service as payments
from atrium.payments.domain import RuleBroken
from atrium.payments.merchants import service as merchants
from atrium.payments.qr.errors import InvalidQrRequest, QrAlreadyPaid, QrAmountMismatch, QrAmountRequired
from atrium.payments.qr.models import QrPayment
from atrium.payments.qr.service.codes import Verified, already_paid, verify
from atrium.payments.schemas import TransferRead
from atrium.payments.service.review import disown

KIND = "qr"  # the transfer kind; payments.domain maps it to method `qr_payment` and ledger kind
STEP_UP_ACTION = "qr.pay"  # no level of its own: only a risk challenge asks for a step-up here


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not 1 <= len(key) <= 100 or not key.isprintable():
        raise InvalidQrRequest("an idempotency key is 1 to 100 printable characters")
    return key


def _by_key(session: Session, customer_id: str, key: str) -> QrPayment | None:
    return session.scalar(
        select(QrPayment).where(QrPayment.customer_id == customer_id, QrPayment.idempotency_key == key)
    )


def _replay(session: Session, prior: QrPayment, request_hash: str) -> TransferRead:
    if prior.request_hash != request_hash or prior.transfer_id is None:
        raise IdempotencyConflict(
            "this idempotency key was already used for a different payment",
            idempotency_key=prior.idempotency_key,
        )
    return payments.get_transfer(session, customer_id=prior.customer_id, transfer_id=prior.transfer_id)


def _amount(v: Verified, amount_minor: int | None) -> int:
    if v.claims.a is not None:
        if amount_minor is not None and amount_minor != v.claims.a:
            raise QrAmountMismatch(
                f"this QR code is for exactly {v.claims.a} minor units of {v.claims.c}",
                qr_amount_minor=v.claims.a, amount_minor=amount_minor,
            )
        return v.claims.a
    if amount_minor is None:
        raise QrAmountRequired("this QR code has no amount; say how much to pay")
    try:
        return payments_domain.check_amount(amount_minor)
    except RuleBroken as exc:
        raise InvalidQrRequest(str(exc)) from None


def _fingerprint(
    *, payload: str, from_account_id: str, amount_minor: int | None, memo: str, channel: str
) -> str:
    """What makes two QR pay requests "the same" (pay and "this wasn't me" alike)."""
    return fingerprint({"payload": payload, "from_account_id": from_account_id, "amount_minor": amount_minor,
                        "memo": memo, "channel": channel})


def _screen(
    session: Session, v: Verified, amount: int, *, customer_id: str, idempotency_key: str,
    from_account_id: str, principal: Principal | None, ip: str | None,
) -> tuple[DepositAccountRead, payments.ResolvedDestination, payments.Verdict]:
    """The paying account (the customer's own), the merchant as a destination, and the risk decision."""
    source = accounts.get_owned(session, customer_id=customer_id, account_id=from_account_id)
    payments.check_source(source, v.claims.c)
    destination = payments.ResolvedDestination(
        kind=KIND, to_type="merchant", display=v.merchant.name, ledger_account_id=v.ledger_account_id,
        name=v.merchant.name,
    )
    verdict = payments.screen_payment(
        session, customer_id=customer_id, idempotency_key=idempotency_key, destination=destination,
        from_account_id=source.id, amount_minor=amount, currency=v.claims.c, principal=principal, ip=ip,
        terminal_id=v.claims.m,
    )
    return source, destination, verdict


def _request(session: Session, customer_id: str, idempotency_key: str, **request: Any
             ) -> tuple[str, TransferRead | None]:
    """The request's fingerprint, and the payment already made under its key (replayed; 409 for another
    request under the same key), if any."""
    _check_key(idempotency_key)
    request_hash = _fingerprint(**request)
    prior = _by_key(session, customer_id, idempotency_key)
    return request_hash, (_replay(session, prior, request_hash) if prior is not None else None)


def pay_qr(
    session: Session, *, customer_id: str, idempotency_key: str, from_account_id: str, payload: str,
    amount_minor: int | None = None, memo: str = "", channel: str, principal: Principal | None = None,
    step_up: str | None = None, ip: str | None = None,
) -> TransferRead:
    """Pay the merchant of a scanned code from the customer's account; returns the (completed) transfer.

    The same key and request → the first payment again, even after the code expired; the same key with
    another request → 409. A paid fixed-amount code → 409 `qr-already-paid`. Limits and the customer's QR
    switch apply (limits method `qr_payment`, on `channel`). Runs in the caller's transaction, flushes.
    `principal`/`step_up`: the signed-in customer who can answer a risk challenge, and their answer.
    """
    request_hash, prior = _request(session, customer_id, idempotency_key, payload=payload,
                                   from_account_id=from_account_id, amount_minor=amount_minor, memo=memo,
                                   channel=channel)
    if prior is not None:
        return prior
    v = verify(session, payload)
    amount = _amount(v, amount_minor)
    if already_paid(session, v):
        raise QrAlreadyPaid("this QR code has already been paid", reference=v.claims.r)
    source, destination, verdict = _screen(
        session, v, amount, customer_id=customer_id, idempotency_key=idempotency_key,
        from_account_id=from_account_id, principal=principal, ip=ip,
    )
    if verdict.outcome == "challenge" and principal is not None:
        stepup.require(
            session, principal, action=STEP_UP_ACTION, token=step_up,
            elements={"payee": f"merchant:{v.claims.m}", "reference": v.claims.r, "amount_minor": str(amount),
                      "currency": v.claims.c},
            summary=payments.summary(destination, amount, v.claims.c), opinion=payments.risk_opinion(verdict),
        )
    return _execute(
        session, v, amount, customer_id=customer_id, idempotency_key=idempotency_key,
        request_hash=request_hash, source=source, destination=destination, memo=memo, channel=channel,
        verdict=verdict,
    )


def report_qr_not_me(
    session: Session, *, customer_id: str, idempotency_key: str, from_account_id: str, payload: str,
    amount_minor: int | None = None, memo: str = "", channel: str, principal: Principal,
    ip: str | None = None,
) -> TransferRead:
    """The customer, shown a challenge for this QR payment, says they did not make it (or were talked into
    it). The same request as `pay_qr`'s: its decision is labelled fraud, and the payment is recorded
    `cancelled` (`not-me`) under its idempotency key, so the form can never pay it afterwards; the code is
    not used up. A payment already made under that key is returned unchanged. A code that expired since
    the challenge can still be disowned (nothing is paid); a forged or revoked one cannot."""
    request_hash, prior = _request(session, customer_id, idempotency_key, payload=payload,
                                   from_account_id=from_account_id, amount_minor=amount_minor, memo=memo,
                                   channel=channel)
    if prior is not None:
        return prior
    v = verify(session, payload, expired_ok=True)
    amount = _amount(v, amount_minor)
    source, destination, verdict = _screen(
        session, v, amount, customer_id=customer_id, idempotency_key=idempotency_key,
        from_account_id=from_account_id, principal=principal, ip=ip,
    )
    return _execute(
        session, v, amount, customer_id=customer_id, idempotency_key=idempotency_key,
        request_hash=request_hash, source=source, destination=destination, memo=memo, channel=channel,
        verdict=disown(session, verdict),
    )


def _execute(
    session: Session, v: Verified, amount: int, *, customer_id: str, idempotency_key: str, request_hash: str,
    source: DepositAccountRead, destination: payments.ResolvedDestination, memo: str, channel: str,
    verdict: payments.Verdict,
) -> TransferRead:
    """The QR record and the payment through the payments core, as the verdict says (a refused one —
    declined, or disowned — moves nothing and does not use the code up)."""
    # One savepoint for the record and the payment: a refusal (funds, limits, switch) leaves neither, so
    # the code can be paid later, even by a caller that catches the error and carries on.
    with session.begin_nested():
        record = QrPayment(
            id=new_id("qrp"), merchant_id=v.claims.m, customer_id=customer_id, key_id=v.claims.k,
            reference=v.claims.r, nonce=v.claims.n,
            # A declined payment does not use the code up: someone else may still pay it.
            once_reference=v.claims.r if v.fixed and verdict.outcome != "deny" else None,
            amount_minor=amount, currency=v.claims.c, idempotency_key=idempotency_key,
            request_hash=request_hash, created_at=clock.now(),
        )
        try:
            # The unique indexes decide races: a concurrent twin of this request (same key) or another
            # payer of the same fixed-amount code waits here for the first to commit, then fails.
            with session.begin_nested():
                session.add(record)
        except IntegrityError:
            prior = _by_key(session, customer_id, idempotency_key)
            if prior is not None:
                return _replay(session, prior, request_hash)
            raise QrAlreadyPaid("this QR code has already been paid", reference=v.claims.r) from None
        transfer = payments.execute(
            session, customer_id=customer_id, idempotency_key=idempotency_key, request_hash=request_hash,
            source=source, destination=destination, amount_minor=amount, currency=v.claims.c,
            memo=memo or f"{v.merchant.name} {v.claims.r}"[:140], channel=channel,
            method=payments_domain.METHOD_FOR_KIND[KIND], ledger_kind=payments_domain.LEDGER_KIND[KIND],
            risk=verdict,
        )
        record.transfer_id = transfer.id
        if transfer.status == "completed":
            _completed(session, record, v.merchant.category)
        session.flush()
    return transfer


def _completed(session: Session, record: QrPayment, category: str) -> None:
    assert record.transfer_id is not None
    outbox.record(session, QrPaymentCompleted(
        transfer_id=record.transfer_id, merchant_id=record.merchant_id, category=category,
        customer_id=record.customer_id, amount_minor=record.amount_minor, currency=record.currency,
        reference=record.reference,
    ))


def _record_of(session: Session, transfer_id: str) -> QrPayment | None:
    return session.scalar(select(QrPayment).where(QrPayment.transfer_id == transfer_id))


def released(session: Session, transfer_id: str) -> None:
    """A held QR payment was released and completed: say so, as an unheld one says it at once."""
    record = _record_of(session, transfer_id)
    if record is not None:
        _completed(session, record, merchants.get_merchant(session, record.merchant_id).category)


def free_code(session: Session, transfer_id: str) -> None:
    """A QR payment that was cancelled (fraud confirmed) no longer uses up its fixed-amount code."""
    record = _record_of(session, transfer_id)
    if record is not None:
        record.once_reference = None
        session.flush()
