"""The audit the system tests rely on finds what a crash could leave half done (so their clean audits mean
something). Runs on SQLite and PostgreSQL, on the shared test database."""

from __future__ import annotations

from sqlalchemy import delete

from atrium.db.session import Database
from atrium.events.models import OutboxEvent
from atrium.payments import service as payments
from atrium.payments.models import Transfer
from atrium.payments.schemas import AtriumDestination
from tests.system import world


def test_the_audit_finds_a_missing_event_and_an_orphan_journal(db: Database) -> None:
    bank = world.seed(db, customers=2, accounts_each=1, funds_minor=10_000, tag="audit")
    a, b = bank.accounts
    with db.unit_of_work() as s:
        t = payments.transfer(
            s, customer_id=a.customer_id, idempotency_key="audit-1", from_account_id=a.id,
            to=AtriumDestination(type="atrium", account_number=b.number), amount_minor=500,
            currency=world.CURRENCY, channel="branch",
        )
    audit = world.audit_transfers(db)
    assert audit.problems == []
    assert audit.by_key(a.customer_id, "audit-1") is not None
    assert world.balances(db, [a.id, b.id]) == {a.id: (9_500, 9_500), b.id: (10_500, 10_500)}
    assert world.expected_balances(bank, [(a.id, b.id, 500)]) == {a.id: 9_500, b.id: 10_500}

    with db.unit_of_work() as s:
        s.execute(delete(OutboxEvent).where(OutboxEvent.type == "TransferCompleted"))
    assert world.audit_transfers(db).problems == [f"transfer {t.id} has 0 TransferCompleted events"]

    with db.unit_of_work() as s:
        s.execute(delete(Transfer).where(Transfer.id == t.id))
    audit = world.audit_transfers(db)
    assert audit.problems == [f"journal for transfer {t.id} without the transfer row"]
    assert audit.by_key(a.customer_id, "audit-1") is None
