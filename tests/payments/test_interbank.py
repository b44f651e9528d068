"""Interbank transfers end to end through the simulated rail: hold, submit after commit, settle or return,
timeouts and retries, duplicate notifications, crashes between the steps."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from atrium.limits import service as limits
from atrium.payments import service
from atrium.payments.models import Transfer
from atrium.payments.rail import Instruction, Notification, RailRejected, RailTimeout, Receipt
from atrium.payments.rail.models import RailInstruction
from atrium.payments.schemas import ExternalDestination
from atrium.payments.service import interbank
from tests.payments import factories as f

CLEARING = "bank:clearing:CNY"
SETTLEMENT = "bank:settlement:CNY"
GOOD_NUMBER = "6230000000001234"


def send(db, w, amount=20_000, *, number=GOOD_NUMBER, bank="HCBK", key="ib-key-0001"):  # type: ignore[no-untyped-def]
    to = ExternalDestination(type="external", bank_code=bank, account_number=number, account_name="Li Lei")
    with db.unit_of_work() as s:
        return service.transfer(
            s,
            customer_id=w.alice,
            idempotency_key=key,
            from_account_id=w.alice_cny.id,
            to=to,
            amount_minor=amount,
            currency="CNY",
            memo="invoice 42",
            channel="mobile",
        )


def row(db, transfer_id: str) -> Transfer:  # type: ignore[no-untyped-def]
    with db.session() as s:
        t = s.get(Transfer, transfer_id)
        assert t is not None
        return t


def interbank_used(db, customer_id: str) -> int:  # type: ignore[no-untyped-def]
    with db.session() as s:
        usage = limits.usage(s, customer_id, channel="mobile", currency="CNY")
    return next(u for u in usage if u.method == "interbank_transfer").daily_used_minor


def test_an_interbank_transfer_holds_then_settles(db, world, rail) -> None:
    with db.session() as s:
        settlement_before = f.internal_balance(s, SETTLEMENT)
    t = send(db, world)
    assert (t.kind, t.status, t.to.type, t.to.bank_code) == ("interbank", "pending", "external", "HCBK")
    assert t.hold_id and t.journal_id is None and t.settled_at is None
    with db.session() as s:
        assert f.balance(s, world.alice_cny.id) == (100_000, 80_000)  # booked untouched, available held
    assert [e["transfer_id"] for e in f.events(db, "TransferInitiated")] == [t.id]
    assert f.events(db, "TransferCompleted") == []

    report = service.process_rail(db, rail)
    assert (report.submitted, report.settled, report.errors) == (1, 1, 0)
    done = row(db, t.id)
    assert done.status == "settled" and done.journal_id and done.settlement_journal_id and done.settled_at
    with db.session() as s:
        assert f.balance(s, world.alice_cny.id) == (80_000, 80_000)
        assert f.internal_balance(s, CLEARING) == 0  # clearing nets out once the rail settled
        assert f.internal_balance(s, SETTLEMENT) == settlement_before - 20_000  # the nostro paid out
    [event] = f.events(db, "TransferCompleted")
    assert event["kind"] == "interbank" and event["transfer_id"] == t.id
    assert interbank_used(db, world.alice) == 20_000
    assert f.ledger_ok(db)


def test_a_returned_transfer_gives_the_money_and_the_limit_back(db, world, rail) -> None:
    t = send(db, world, number="6230000000001410")  # the sandbox's "account closed"
    assert interbank_used(db, world.alice) == 20_000
    report = service.process_rail(db, rail)
    assert report.returned == 1
    done = row(db, t.id)
    assert (done.status, done.failure_code) == ("returned", "AC04")
    assert done.failure_reason == "account closed"
    with db.session() as s:
        assert f.balance(s, world.alice_cny.id) == (100_000, 100_000)
        assert f.internal_balance(s, CLEARING) == 0
        assert service.get_transfer(s, customer_id=world.alice, transfer_id=t.id).status == "returned"
    assert interbank_used(db, world.alice) == 0
    [event] = f.events(db, "TransferReturned")
    assert event == {**event, "transfer_id": t.id, "reason": "AC04"}
    assert f.ledger_ok(db)


def test_timeouts_are_retried_with_the_same_instruction_then_backed_off(db, world, frozen) -> None:
    t = send(db, world)
    stuck = f.quiet_rail(db, timeout_rate=1.0, seed=5)
    report = service.submit_pending(db, stuck)
    assert report.timeouts == interbank.SUBMIT_TRIES and report.submitted == 0
    waiting = row(db, t.id)
    assert waiting.status == "pending" and waiting.submitted_at is None
    assert waiting.submit_attempts == interbank.SUBMIT_TRIES and waiting.next_submit_at > f.NOON
    # Backing off: nothing is due until the wait is over.
    assert service.submit_pending(db, stuck).timeouts == 0
    frozen.set(waiting.next_submit_at + timedelta(seconds=1))
    healthy = f.quiet_rail(db)
    report = service.process_rail(db, healthy)
    # Some timed-out tries may have reached the rail: then the retry is a recognised duplicate.
    assert report.submitted + report.resubmitted == 1 and report.settled == 1
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(RailInstruction)) == 1
        assert f.balance(s, world.alice_cny.id) == (80_000, 80_000)
    assert f.ledger_ok(db)


class LosesFirstAnswer:
    """A rail whose first answer is lost on the way back: the instruction was accepted all the same."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.calls = inner, 0

    def participants(self):  # type: ignore[no-untyped-def]
        return self.inner.participants()

    def submit(self, instruction: Instruction) -> Receipt:
        self.calls += 1
        receipt = self.inner.submit(instruction)
        if self.calls == 1:
            raise RailTimeout("answer lost")
        return receipt

    def poll(self, *, limit: int = 100) -> list[Notification]:
        return self.inner.poll(limit=limit)

    def ack(self, notification_id: str) -> None:
        self.inner.ack(notification_id)


def test_a_lost_answer_is_retried_and_deduplicated_by_the_rail(db, world) -> None:
    t = send(db, world)
    rail = LosesFirstAnswer(f.quiet_rail(db))
    report = service.process_rail(db, rail)
    assert (report.timeouts, report.resubmitted, report.submitted, report.settled) == (1, 1, 0, 1)
    assert row(db, t.id).submit_attempts == 2
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(RailInstruction)) == 1
        assert f.balance(s, world.alice_cny.id) == (80_000, 80_000)


def test_duplicate_notifications_change_nothing(db, world) -> None:
    t = send(db, world)
    rail = f.quiet_rail(db, duplicate_rate=1.0)
    service.submit_pending(db, rail)
    notes = rail.poll()
    assert len(notes) == 1  # the copy comes half a second later
    report = service.receive_notifications(db, rail)
    assert report.settled == 1
    for note in [*notes, Notification("rnt_copy", t.id, "settled", None, None, f.NOON)]:
        with db.unit_of_work() as s:
            assert interbank.apply_notification(s, note) == "duplicate"
    assert len(f.events(db, "TransferCompleted")) == 1
    with db.session() as s:
        assert f.balance(s, world.alice_cny.id) == (80_000, 80_000)
    assert f.ledger_ok(db)


def test_the_delayed_copy_is_acknowledged_as_a_duplicate(db, world, frozen) -> None:
    send(db, world)
    rail = f.quiet_rail(db, duplicate_rate=1.0)
    assert service.process_rail(db, rail).settled == 1
    frozen.set(f.NOON + timedelta(seconds=2))
    report = service.process_rail(db, rail)
    assert (report.duplicates, report.settled) == (1, 0)
    assert rail.poll() == []


def test_a_rail_that_changes_its_mind_moves_no_money(db, world, rail) -> None:
    t = send(db, world)
    service.process_rail(db, rail)
    with db.unit_of_work() as s:
        outcome = interbank.apply_notification(
            s, Notification("rnt_x", t.id, "returned", "MS03", "late", f.NOON)
        )
    assert outcome == "duplicate" and row(db, t.id).status == "settled"
    with db.session() as s:
        assert f.balance(s, world.alice_cny.id) == (80_000, 80_000)


def test_a_crash_between_commit_and_submission_loses_nothing(db, world) -> None:
    t = send(db, world)  # committed; the process dies before any job ran
    assert row(db, t.id).submitted_at is None
    restarted = f.quiet_rail(db)  # the next process, with a fresh rail client
    report = service.process_rail(db, restarted)
    assert (report.submitted, report.settled) == (1, 1)
    assert row(db, t.id).status == "settled"


def test_a_crash_after_the_rail_accepted_but_before_we_recorded_it(db, world) -> None:
    t = send(db, world)
    with db.session() as s:
        [instruction] = interbank.due_for_submission(s)
    f.quiet_rail(db).submit(instruction)  # accepted; then the process died before record_submitted
    report = service.process_rail(db, f.quiet_rail(db))
    assert (report.resubmitted, report.submitted, report.settled) == (1, 0, 1)
    assert row(db, t.id).status == "settled"
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(RailInstruction)) == 1
        assert f.balance(s, world.alice_cny.id) == (80_000, 80_000)


def test_a_crash_after_applying_but_before_acknowledging_is_a_harmless_redelivery(db, world, rail) -> None:
    t = send(db, world)
    service.submit_pending(db, rail)
    [note] = rail.poll()
    with db.unit_of_work() as s:
        assert interbank.apply_notification(s, note) == "settled"
    # No ack: the rail offers the notification again.
    report = service.receive_notifications(db, rail)
    assert (report.duplicates, report.settled) == (1, 0)
    assert row(db, t.id).status == "settled"
    assert rail.poll() == []


class Refuses:
    def participants(self):  # type: ignore[no-untyped-def]
        return ()

    def submit(self, instruction: Instruction) -> Receipt:
        raise RailRejected("AG01", "transaction forbidden")

    def poll(self, *, limit: int = 100) -> list[Notification]:
        return []

    def ack(self, notification_id: str) -> None:
        raise AssertionError("nothing to acknowledge")


def test_a_refused_instruction_fails_the_transfer_and_releases_everything(db, world) -> None:
    t = send(db, world)
    report = service.process_rail(db, Refuses())
    assert report.failed == 1
    done = row(db, t.id)
    assert (done.status, done.failure_code) == ("failed", "AG01")
    with db.session() as s:
        assert f.balance(s, world.alice_cny.id) == (100_000, 100_000)
    assert interbank_used(db, world.alice) == 0
    assert [e["transfer_id"] for e in f.events(db, "TransferFailed")] == [t.id]
    assert f.ledger_ok(db)


def test_a_hold_that_lapsed_before_settlement_is_still_booked(db, world, frozen) -> None:
    from atrium.ledger import service as ledger

    t = send(db, world)
    rail = f.quiet_rail(db)
    service.submit_pending(db, rail)
    frozen.set(f.NOON + timedelta(days=8))
    with db.unit_of_work() as s:
        assert ledger.expire_holds(s) == 1
    with db.session() as s:
        assert f.balance(s, world.alice_cny.id) == (100_000, 100_000)
    assert service.receive_notifications(db, rail).settled == 1
    with db.session() as s:
        assert f.balance(s, world.alice_cny.id) == (80_000, 80_000)
        assert f.internal_balance(s, CLEARING) == 0
    assert row(db, t.id).status == "settled"
    assert f.ledger_ok(db)


def test_a_seeded_storm_ends_with_every_transfer_settled_or_returned(db, world, frozen) -> None:
    rail = f.quiet_rail(
        db, seed=2024, timeout_rate=0.5, return_rate=0.3, duplicate_rate=0.5, settle_delay_s=1
    )
    ids = [send(db, world, 1_000 + i, key=f"storm-{i:04}").id for i in range(20)]
    now, total = f.NOON, interbank.RailRunReport()
    for _ in range(60):
        for name, n in service.process_rail(db, rail).as_dict().items():
            setattr(total, name, getattr(total, name) + n)
        now += timedelta(seconds=30)
        frozen.set(now)
    # The storm really blew: timeouts, recognised re-submissions and duplicate notifications, no errors.
    assert total.timeouts and total.resubmitted and total.duplicates and total.errors == 0
    assert total.settled + total.returned == 20
    rows = [row(db, i) for i in ids]
    assert {r.status for r in rows} <= {"settled", "returned"}
    settled = sum(r.amount_minor for r in rows if r.status == "settled")
    assert any(r.status == "returned" for r in rows) and settled > 0
    with db.session() as s:
        assert f.balance(s, world.alice_cny.id) == (100_000 - settled, 100_000 - settled)
        assert f.internal_balance(s, CLEARING) == 0
        assert s.scalar(select(func.count()).select_from(RailInstruction)) == 20
    assert interbank_used(db, world.alice) == settled
    assert len(f.events(db, "TransferCompleted")) + len(f.events(db, "TransferReturned")) == 20
    assert f.ledger_ok(db)
