"""Transfers the risk decision held for review, and challenged payments the customer disowns.

- `release_held`: the analyst released the case. Own-bank payments post their hold to the payee and end
  `completed` (TransferCompleted); an interbank one becomes `pending` and goes on to the clearing rail
  (TransferInitiated). A hold that lapsed meanwhile is booked afresh if the money is still there, else the
  transfer ends `cancelled` (`hold-lapsed`).
- `cancel_held`: the analyst confirmed fraud. The hold is voided, the limit usage given back, and the
  transfer ends `cancelled` — nothing ever reached the payee.
- Both lock the transfer row and act only on a `held` one, so a redelivered event is a no-op.
- `report_not_me`: on a "was this you?" challenge the customer answers "no": the payment is recorded
  `cancelled` (`not-me`) under the same idempotency key, so the form can never pay it afterwards, and the
  decision is labelled fraud for the model's next training set. `disown` is that step on its own, for
  other payment kinds (QR pay's `report_qr_not_me`).
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from atrium.accounts import service as accounts
from atrium.events import outbox
from atrium.events.catalogue import TransferCompleted, TransferInitiated
from atrium.identity.principal import Principal
from atrium.kit import clock
from atrium.ledger import errors as ledger_errors
from atrium.ledger import service as ledger
from atrium.ledger.schemas import JournalRead
from atrium.limits import service as limits
from atrium.logs import get_logger
from atrium.payments import domain
from atrium.payments.domain import ledger_key
from atrium.payments.models import Transfer
from atrium.payments.schemas import Destination, TransferRead
from atrium.payments.service import risk as payment_risk
from atrium.payments.service.destinations import check_source, resolve
from atrium.payments.service.transfers import (
    check_amount_and_currency,
    check_idempotency_key,
    execute,
    find_by_key,
    to_read,
    transfer_fingerprint,
)

log = get_logger("atrium.payments.review")


def _held(session: Session, transfer_id: str) -> Transfer | None:
    t = session.scalar(select(Transfer).where(Transfer.id == transfer_id).with_for_update())
    if t is None or t.status != "held":
        return None
    return t


def release_held(session: Session, transfer_id: str) -> TransferRead | None:
    """Let a held transfer go on; None when it is not held (unknown, or already decided: a no-op)."""
    t = _held(session, transfer_id)
    if t is None:
        return None
    now = clock.now()
    t.updated_at = now
    if t.kind == "interbank":
        # The hold against clearing stays; the rail submitter picks pending transfers up.
        t.status = domain.released_status(t.kind)
        outbox.record(session, TransferInitiated(
            transfer_id=t.id, from_account_id=t.from_account_id, amount_minor=t.amount_minor,
            currency=t.currency, customer_id=t.customer_id,
        ))
        session.flush()
        return to_read(t)
    assert t.hold_id is not None and t.to_ledger_account_id is not None
    try:
        journal = ledger.post_hold(session, hold_id=t.hold_id, idempotency_key=ledger_key(t.id, "release"))
    except (ledger_errors.HoldNotPending, ledger_errors.HoldExpired):
        journal = _post_lapsed(session, t)
        if journal is None:
            return to_read(t)
    t.status, t.journal_id, t.settled_at = domain.released_status(t.kind), journal.id, now
    outbox.record(session, TransferCompleted(
        transfer_id=t.id, kind=t.kind, from_account_id=t.from_account_id, to_account_id=t.to_account_id,
        amount_minor=t.amount_minor, currency=t.currency, customer_id=t.customer_id,
    ))
    session.flush()
    return to_read(t)


def _post_lapsed(session: Session, t: Transfer) -> JournalRead | None:
    """The review outlasted the hold (the money went back to the payer): pay it now if it is still there,
    else end the transfer `cancelled` and give the limit usage back."""
    log.warning("held_transfer_hold_lapsed", transfer_id=t.id)
    assert t.to_ledger_account_id is not None
    try:
        with session.begin_nested():
            return ledger.post_transfer(
                session, idempotency_key=ledger_key(t.id, "release-lapsed"),
                debit_account_id=t.from_ledger_account_id, credit_account_id=t.to_ledger_account_id,
                amount_minor=t.amount_minor, currency=t.currency, kind=domain.LEDGER_KIND.get(t.kind, t.kind),
                description=t.memo or "Transfer",
                metadata={"transfer_id": t.id, "from_account_id": t.from_account_id},
            )
    except ledger_errors.InsufficientFunds:
        _cancel(session, t, "hold-lapsed", void=False)
        return None


def _cancel(session: Session, t: Transfer, code: str, *, void: bool = True) -> None:
    if void and t.hold_id is not None:
        try:
            ledger.void_hold(session, hold_id=t.hold_id, idempotency_key=ledger_key(t.id, "void"))
        except ledger_errors.HoldNotPending:
            log.warning("held_transfer_hold_already_released", transfer_id=t.id)
    limits.release(
        session, customer_id=t.customer_id, method=t.method, amount_minor=t.amount_minor, currency=t.currency,
        at=t.created_at,
    )
    now = clock.now()
    t.status, t.failure_code, t.settled_at, t.updated_at = "cancelled", code, now, now
    session.flush()


def cancel_held(session: Session, transfer_id: str, *, code: str = "risk-rejected") -> TransferRead | None:
    """Stop a held transfer: void its hold, give back the limit usage; None when it is not held."""
    t = _held(session, transfer_id)
    if t is None:
        return None
    _cancel(session, t, code)
    return to_read(t)


def report_not_me(
    session: Session, *, customer_id: str, idempotency_key: str, from_account_id: str, to: Destination,
    amount_minor: int, currency: str, memo: str = "", channel: str, principal: Principal,
    ip: str | None = None,
) -> TransferRead:
    """The customer, shown a challenge for this payment, says they did not make it (or were talked into
    it). The same request as `transfer`'s: its decision is labelled fraud, and the payment is recorded
    `cancelled` under its idempotency key. A payment already made under that key is returned unchanged."""
    check_idempotency_key(idempotency_key)
    request_hash = transfer_fingerprint(from_account_id=from_account_id, to=to, amount_minor=amount_minor,
                                        currency=currency, memo=memo, channel=channel)
    existing = find_by_key(session, customer_id, idempotency_key, request_hash)
    if existing is not None:
        return existing
    check_amount_and_currency(amount_minor, currency)
    source = accounts.get_owned(session, customer_id=customer_id, account_id=from_account_id)
    check_source(source, currency)
    destination = resolve(session, customer_id=customer_id, to=to, source=source, currency=currency)
    verdict = payment_risk.screen(
        session, customer_id=customer_id, idempotency_key=idempotency_key, destination=destination,
        from_account_id=source.id, amount_minor=amount_minor, currency=currency, principal=principal, ip=ip,
    )
    return execute(
        session, customer_id=customer_id, idempotency_key=idempotency_key, request_hash=request_hash,
        source=source, destination=destination, amount_minor=amount_minor, currency=currency, memo=memo,
        channel=channel, risk=disown(session, verdict),
    )


def disown(session: Session, verdict: payment_risk.Verdict) -> payment_risk.Verdict:
    """The customer's "this wasn't me" on a payment's decision: the decision is labelled fraud, and the
    verdict returned makes `execute` record the payment `cancelled` (`not-me`) with nothing moved. Shared by
    `report_not_me` and QR pay's `report_qr_not_me`."""
    # The customer's word is a label, whatever the decision said (fraud the checks let through counts most).
    payment_risk.disowned(session, verdict)
    return replace(verdict, outcome="deny", by_customer=True)
