"""Pay a scanned QR code: verify it, then move the money through the payments core (method `qr_payment`)
to the merchant's settlement account, recording the payment so a fixed-amount code is paid only once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from atrium.accounts import service as accounts
from atrium.events import outbox
from atrium.events.catalogue import QrPaymentCompleted
from atrium.kit import clock
from atrium.kit.errors import IdempotencyConflict
from atrium.kit.hashing import fingerprint
from atrium.kit.ids import new_id
from atrium.payments import domain as payments_domain
from atrium.payments import service as payments
from atrium.payments.domain import RuleBroken
from atrium.payments.qr.errors import InvalidQrRequest, QrAlreadyPaid, QrAmountMismatch, QrAmountRequired
from atrium.payments.qr.models import QrPayment
from atrium.payments.qr.service.codes import Verified, already_paid, verify
from atrium.payments.schemas import TransferRead

KIND = "qr"  # the transfer kind; payments.domain maps it to method `qr_payment` and ledger kind


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


def pay_qr(
    session: Session, *, customer_id: str, idempotency_key: str, from_account_id: str, payload: str,
    amount_minor: int | None = None, memo: str = "", channel: str,
) -> TransferRead:
    """Pay the merchant of a scanned code from the customer's account; returns the (completed) transfer.

    The same key and request → the first payment again, even after the code expired; the same key with
    another request → 409. A paid fixed-amount code → 409 `qr-already-paid`. Limits and the customer's QR
    switch apply (limits method `qr_payment`, on `channel`). Runs in the caller's transaction, flushes.
    """
    _check_key(idempotency_key)
    request_hash = fingerprint({"payload": payload, "from_account_id": from_account_id,
                                "amount_minor": amount_minor, "memo": memo, "channel": channel})
    prior = _by_key(session, customer_id, idempotency_key)
    if prior is not None:
        return _replay(session, prior, request_hash)
    v = verify(session, payload)
    amount = _amount(v, amount_minor)
    if already_paid(session, v):
        raise QrAlreadyPaid("this QR code has already been paid", reference=v.claims.r)
    source = accounts.get_owned(session, customer_id=customer_id, account_id=from_account_id)
    payments.check_source(source, v.claims.c)
    destination = payments.ResolvedDestination(
        kind=KIND, to_type="merchant", display=v.merchant.name, ledger_account_id=v.ledger_account_id,
        name=v.merchant.name,
    )
    # One savepoint for the record and the payment: a refusal (funds, limits, switch) leaves neither, so
    # the code can be paid later, even by a caller that catches the error and carries on.
    with session.begin_nested():
        record = QrPayment(
            id=new_id("qrp"), merchant_id=v.claims.m, customer_id=customer_id, key_id=v.claims.k,
            reference=v.claims.r, once_reference=v.claims.r if v.fixed else None, nonce=v.claims.n,
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
        )
        record.transfer_id = transfer.id
        outbox.record(session, QrPaymentCompleted(
            transfer_id=transfer.id, merchant_id=v.claims.m, category=v.merchant.category,
            customer_id=customer_id, amount_minor=amount, currency=v.claims.c, reference=v.claims.r,
        ))
        session.flush()
    return transfer
