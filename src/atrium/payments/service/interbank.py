"""Interbank transfers after commit: submit pending ones to the clearing rail, apply its notifications.

Never inside a request: `transfer` only holds the money and commits a "pending" row. These functions run
from the jobs in `payments/tasks.py` (or `process_rail` in tests and the CLI), each step in its own short
transaction and never with a transaction open across a rail call:

- submission: read the due pending transfers, call `rail.submit` with instruction id = transfer id; a
  timeout is retried with the same id (the rail dedupes), then backed off; a refusal fails the transfer.
  A crash anywhere leaves the transfer pending and unsubmitted, so the next run submits it again.
- notifications: each one is applied in a transaction that locks the transfer row; a transfer that is no
  longer pending makes it a no-op (duplicates, redeliveries), and the ledger keys derived from the
  transfer id make even a repeated ledger call harmless. The rail is acknowledged after commit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from atrium.db.session import Database
from atrium.events import outbox
from atrium.events.catalogue import TransferCompleted, TransferFailed, TransferReturned
from atrium.kit import clock
from atrium.ledger import errors as ledger_errors
from atrium.ledger import service as ledger
from atrium.limits import service as limits
from atrium.logs import get_logger
from atrium.payments import domain
from atrium.payments.domain import ledger_key
from atrium.payments.models import Transfer
from atrium.payments.rail import (
    ClearingRail,
    Instruction,
    Notification,
    RailRejected,
    RailTimeout,
    Receipt,
    get_rail,
)
from atrium.payments.service.transfers import clearing_account_code, settlement_account_code

log = get_logger("atrium.payments.interbank")

# Tries per submission round before backing off to a later run (the rail dedupes, so each is safe).
SUBMIT_TRIES = 3


@dataclass
class RailRunReport:
    submitted: int = 0
    resubmitted: int = 0  # the rail already had it: an earlier try was accepted but its receipt was lost
    timeouts: int = 0
    failed: int = 0
    settled: int = 0
    returned: int = 0
    duplicates: int = 0
    unknown: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _instruction(t: Transfer) -> Instruction:
    assert t.to_bank_code and t.to_account_number and t.to_name  # every interbank row has them
    return Instruction(
        instruction_id=t.id, bank_code=t.to_bank_code, account_number=t.to_account_number,
        account_name=t.to_name, amount_minor=t.amount_minor, currency=t.currency, remittance=t.memo,
    )


def due_for_submission(session: Session, *, limit: int = 100) -> list[Instruction]:
    now = clock.now()
    rows = session.scalars(
        select(Transfer)
        .where(
            Transfer.status == "pending", Transfer.kind == "interbank", Transfer.submitted_at.is_(None),
            (Transfer.next_submit_at.is_(None)) | (Transfer.next_submit_at <= now),
        )
        .order_by(Transfer.created_at, Transfer.id)
        .limit(limit)
    ).all()
    return [_instruction(t) for t in rows]


def _locked(session: Session, transfer_id: str) -> Transfer | None:
    return session.scalar(select(Transfer).where(Transfer.id == transfer_id).with_for_update())


def record_submitted(session: Session, transfer_id: str, receipt: Receipt, tries: int) -> None:
    t = _locked(session, transfer_id)
    if t is None or t.submitted_at is not None:
        return
    t.submit_attempts += tries
    t.submitted_at = receipt.accepted_at
    t.next_submit_at = None
    t.updated_at = clock.now()


def record_timeouts(session: Session, transfer_id: str, tries: int) -> None:
    t = _locked(session, transfer_id)
    if t is None or t.status != "pending" or t.submitted_at is not None:
        return
    t.submit_attempts += tries
    t.next_submit_at = clock.now() + domain.submit_backoff(t.submit_attempts)
    t.updated_at = clock.now()


def _submit_one(db: Database, rail: ClearingRail, ins: Instruction, report: RailRunReport) -> None:
    for tries in range(1, SUBMIT_TRIES + 1):
        try:
            receipt = rail.submit(ins)
        except RailTimeout:
            report.timeouts += 1
            continue
        except RailRejected as exc:
            db.run(lambda s, e=exc: fail_transfer(s, ins.instruction_id, e.code, e.reason))
            report.failed += 1
            return
        db.run(lambda s, r=receipt, n=tries: record_submitted(s, ins.instruction_id, r, n))
        if receipt.duplicate:
            report.resubmitted += 1
        else:
            report.submitted += 1
        return
    db.run(lambda s: record_timeouts(s, ins.instruction_id, SUBMIT_TRIES))
    log.warning("rail_submit_timed_out", transfer_id=ins.instruction_id, tries=SUBMIT_TRIES)


def submit_pending(
    db: Database, rail: ClearingRail | None = None, *, limit: int = 100, report: RailRunReport | None = None
) -> RailRunReport:
    rail = rail or get_rail(db)
    report = report or RailRunReport()
    with db.read_session() as s:
        batch = due_for_submission(s, limit=limit)
    for ins in batch:
        try:
            _submit_one(db, rail, ins, report)
        except Exception:  # one broken instruction must not hold up the others; it is retried next run
            report.errors += 1
            log.exception("rail_submit_failed", transfer_id=ins.instruction_id)
    return report


def _close(session: Session, t: Transfer, status: str, code: str | None, reason: str | None) -> None:
    """Give the held money back (void the hold) and the limit usage; the transfer ends `status`."""
    assert t.hold_id is not None
    try:
        ledger.void_hold(session, hold_id=t.hold_id, idempotency_key=ledger_key(t.id, "void"))
    except ledger_errors.HoldNotPending:
        # The hold lapsed (expired) first: the money is already back with the payer.
        log.warning("transfer_hold_already_released", transfer_id=t.id)
    limits.release(
        session, customer_id=t.customer_id, method=t.method, amount_minor=t.amount_minor, currency=t.currency,
        at=t.created_at,
    )
    now = clock.now()
    t.status, t.failure_code, t.failure_reason = status, code, (reason or "")[:200] or None
    t.settled_at = t.updated_at = now


def fail_transfer(session: Session, transfer_id: str, code: str, reason: str) -> bool:
    """The rail refused the instruction outright: release the money; the transfer ends `failed`."""
    t = _locked(session, transfer_id)
    if t is None or not domain.can_transition(t.status, "failed"):
        return False
    _close(session, t, "failed", code, reason)
    outbox.record(session, TransferFailed(transfer_id=t.id, reason=code, customer_id=t.customer_id))
    return True


def _settle(session: Session, t: Transfer) -> None:
    clearing = ledger.get_or_create_internal(
        session, code=clearing_account_code(t.currency), name=f"Interbank clearing {t.currency}",
        type="liability", currency=t.currency,
    )
    assert t.hold_id is not None
    try:
        journal = ledger.post_hold(session, hold_id=t.hold_id, idempotency_key=ledger_key(t.id, "settle"))
    except ledger_errors.HoldNotPending:
        # The hold lapsed before the rail settled, but the money has left the bank: book it all the same.
        log.warning("transfer_settled_after_hold_lapsed", transfer_id=t.id)
        journal = ledger.post_transfer(
            session, idempotency_key=ledger_key(t.id, "settle-lapsed"),
            debit_account_id=t.from_ledger_account_id, credit_account_id=clearing.id,
            amount_minor=t.amount_minor, currency=t.currency,
            kind=domain.LEDGER_KIND["interbank"], description=t.memo or "Transfer",
            metadata={"transfer_id": t.id, "from_account_id": t.from_account_id},
        )
    # The rail has moved the money out of the bank's settlement (nostro) account: clearing → settlement.
    settlement = ledger.get_or_create_internal(
        session, code=settlement_account_code(t.currency), name=f"Settlement account {t.currency}",
        type="asset", currency=t.currency,
    )
    nostro = ledger.post_transfer(
        session, idempotency_key=ledger_key(t.id, "nostro"), debit_account_id=clearing.id,
        credit_account_id=settlement.id, amount_minor=t.amount_minor, currency=t.currency,
        kind="transfer.interbank.settle", description="Interbank settlement", metadata={"transfer_id": t.id},
    )
    now = clock.now()
    t.status, t.journal_id, t.settlement_journal_id = "settled", journal.id, nostro.id
    t.settled_at = t.updated_at = now
    outbox.record(session, TransferCompleted(
        transfer_id=t.id, kind="interbank", from_account_id=t.from_account_id, to_account_id=None,
        amount_minor=t.amount_minor, currency=t.currency, customer_id=t.customer_id,
    ))


def apply_notification(session: Session, note: Notification) -> str:
    """Apply one rail notification. Returns what it did: settled | returned | duplicate | unknown."""
    t = _locked(session, note.instruction_id)
    if t is None or t.kind != "interbank":
        log.warning("rail_notification_for_unknown_instruction", notification_id=note.id)
        return "unknown"
    if not domain.can_transition(t.status, note.outcome):
        if t.status != note.outcome:
            # A rail that changes its mind needs a person: log loudly, change no money automatically.
            log.error("rail_outcome_conflict", transfer_id=t.id, status=t.status, outcome=note.outcome)
        return "duplicate"
    if note.outcome == "settled":
        _settle(session, t)
    else:
        _close(session, t, "returned", note.reason_code, note.reason)
        outbox.record(session, TransferReturned(
            transfer_id=t.id, reason=note.reason_code or "returned", customer_id=t.customer_id,
        ))
    if t.submitted_at is None:
        # The receipt was lost but the rail clearly had the instruction.
        t.submitted_at = note.occurred_at
    session.flush()
    return note.outcome


def receive_notifications(
    db: Database, rail: ClearingRail | None = None, *, limit: int = 100, report: RailRunReport | None = None
) -> RailRunReport:
    rail = rail or get_rail(db)
    report = report or RailRunReport()
    for note in rail.poll(limit=limit):
        try:
            outcome = db.run(lambda s, n=note: apply_notification(s, n))
        except Exception:  # not acknowledged, so the rail offers it again on the next poll
            report.errors += 1
            log.exception("rail_notification_failed", notification_id=note.id)
            continue
        rail.ack(note.id)
        if outcome == "settled":
            report.settled += 1
        elif outcome == "returned":
            report.returned += 1
        elif outcome == "duplicate":
            report.duplicates += 1
        else:
            report.unknown += 1
    return report


def process_rail(db: Database, rail: ClearingRail | None = None, *, limit: int = 100) -> RailRunReport:
    """One synchronous round (tests, the CLI): submit what is due, then apply what the rail reported."""
    rail = rail or get_rail(db)
    report = RailRunReport()
    submit_pending(db, rail, limit=limit, report=report)
    receive_notifications(db, rail, limit=limit, report=report)
    return report
