"""The post-event monitor reads only what changed: a run with nothing new reads no old decision, a revision
change re-examines the window batch by batch, and what becomes a candidate later — a payment completing
after the monitor passed it, a fail-policy allow, a decision committed after its position was passed — is
still checked, once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select

from atrium.events.models import OutboxEvent
from atrium.kit import clock
from atrium.risk import repository, service, tasks
from atrium.risk.models import RiskDecision, RiskMonitorPending
from tests.risk.service.factories import block, event, publish_rule

READS = ("pending_decisions", "rescan_decisions", "tail_decisions")


@pytest.fixture()
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """How many decision rows each of the monitor's reads returned."""
    counts = dict.fromkeys(READS, 0)

    def counting(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            rows = real(*args, **kwargs)
            counts[name] += len(rows)
            return rows
        return wrapper

    for name in READS:
        monkeypatch.setattr(repository, name, counting(name, getattr(repository, name)))
    yield counts


def _alerts(s) -> list[dict]:  # type: ignore[no-untyped-def]
    return [r.payload for r in s.scalars(select(OutboxEvent).where(OutboxEvent.type == "RiskAlertRaised"))]


def _card(s, card: str, amount_minor: int = 1_000):  # type: ignore[no-untyped-def]
    return service.screen(s, event(channel="card", card_ref=card, amount_minor=amount_minor, payee_ref=None))


def _waiting(s) -> set[str]:  # type: ignore[no-untyped-def]
    """Decisions the monitor remembers (on PostgreSQL the positions earlier tests used are remembered too:
    unseen, as if in flight)."""
    return set(s.scalars(select(RiskDecision.subject_ref).join(
        RiskMonitorPending, RiskMonitorPending.seq == RiskDecision.seq)))


class _Broken:
    def decide(self, event, now=None):  # type: ignore[no-untyped-def]
        raise RuntimeError("engine down")


def test_a_run_with_nothing_new_reads_no_old_decision(s, reads) -> None:  # type: ignore[no-untyped-def]
    for i in range(30):
        _card(s, f"card_{i}")
    block(s, "card", "card_7")
    assert (service.monitor(s).checked, reads["rescan_decisions"]) == (30, 30)
    reads.update(dict.fromkeys(READS, 0))
    assert service.monitor(s).checked == 0
    assert reads == dict.fromkeys(READS, 0)
    for i in range(5):  # decided under the current revision: passed by the tail, read by no query
        _card(s, f"new_{i}")
    assert service.monitor(s).checked == 0
    assert reads == dict.fromkeys(READS, 0)
    assert len(_alerts(s)) == 1


def test_a_revision_change_re_examines_the_window_in_batches(s, reads) -> None:  # type: ignore[no-untyped-def]
    for i in range(12):
        _card(s, f"card_{i}", amount_minor=90_000 if i % 4 == 0 else 1_000)
    assert service.monitor(s, limit=5).checked == 0  # all decided under this revision
    publish_rule(s, "amount > 500", "review")
    batches = [service.monitor(s, limit=5) for _ in range(4)]
    assert [(b.checked, b.more) for b in batches] == [(5, True), (5, True), (2, False), (0, False)]
    assert sum(b.alerted for b in batches) == 3 == len(_alerts(s))
    assert reads["rescan_decisions"] == 12  # each decision read once
    block(s, "card", "card_5")  # another revision: everything again, alerts only for what is new
    assert [service.monitor(s, limit=5).checked for _ in range(3)] == [5, 4, 0]  # 12 less 3 alerted
    assert len(_alerts(s)) == 4


def test_the_job_runs_batches_until_the_window_is_done(db, risk_settings) -> None:  # type: ignore[no-untyped-def]
    risk_settings(monitor_batch=4)
    with db.unit_of_work() as s:
        for i in range(10):
            _card(s, f"card_{i}")
        publish_rule(s, "amount > 5", "review")
    report = tasks.monitor_job(db)
    assert (report.checked, report.alerted) == (10, 10)
    assert tasks.monitor_job(db).checked == 0


def test_a_payment_completing_after_the_monitor_passed_it_is_checked(s, reads, risk_settings) -> None:  # type: ignore[no-untyped-def]
    risk_settings(policies={"transfer": {"on_timeout": "allow", "timeout_ms": 10_000}})
    early = service.screen(s, event(subject_ref="trf_early"))
    block(s, "payee", "6222000012345678")
    block(s, "payee", "6222000099998888")
    assert service.monitor(s).checked == 0  # passed by the re-scan before it completed: remembered
    with service.engine_override(_Broken()):  # a fail-policy allow, passed by the tail before completing
        late = service.screen(s, event(subject_ref="trf_late", payee_ref="6222000099998888"))
    assert (late.outcome, late.fallback) == ("allow", True)
    assert service.monitor(s).checked == 0
    assert _waiting(s) == {"trf_early", "trf_late"}
    reads.update(dict.fromkeys(READS, 0))
    assert service.monitor(s).checked == 0  # still waiting: nothing read
    assert reads == dict.fromkeys(READS, 0)
    service.mark_completed(s, "trf_early")
    service.mark_completed(s, "trf_late")
    report = service.monitor(s)
    assert (report.checked, report.alerted, reads["pending_decisions"]) == (2, 2, 2)
    assert {a["decision_id"] for a in _alerts(s)} == {early.id, late.id}
    assert _waiting(s) == set()  # checked: forgotten
    assert service.monitor(s).checked == 0


def test_a_fail_policy_allow_after_the_cursor_is_checked_under_the_same_revision(s) -> None:  # type: ignore[no-untyped-def]
    block(s, "card", "card_4", reason="card reported stolen")
    assert service.monitor(s).checked == 0  # the cursor exists: this revision's re-scan is done
    _card(s, "card_1")
    with service.engine_override(_Broken()):
        missed = _card(s, "card_4")
    assert (missed.outcome, missed.fallback) == ("allow", True)
    report = service.monitor(s)
    assert (report.checked, report.alerted) == (1, 1)  # found by the tail; card_1 is not a candidate
    assert _alerts(s)[0]["decision_id"] == missed.id
    assert service.monitor(s).checked == 0


def test_a_waiting_payment_is_forgotten_once_it_leaves_the_window(s, frozen) -> None:  # type: ignore[no-untyped-def]
    service.screen(s, event(subject_ref="trf_never"))
    block(s, "payee", "6222000012345678")
    assert service.monitor(s).checked == 0
    assert _waiting(s) == {"trf_never"}
    frozen.set(clock.now() + timedelta(hours=73))
    service.mark_completed(s, "trf_never")
    assert service.monitor(s).checked == 0  # completed too late for the window
    assert _waiting(s) == set()


def test_a_position_unseen_when_passed_is_asked_for_until_the_gap_timeout(s, frozen) -> None:  # type: ignore[no-untyped-def]
    service.monitor(s)  # the cursor exists
    rows = [_card(s, f"card_{i}") for i in range(3)]
    middle = s.scalar(select(RiskDecision.seq).where(RiskDecision.id == rows[1].id))
    s.execute(delete(RiskDecision).where(RiskDecision.seq == middle))  # as if its transaction were in flight
    assert service.monitor(s).checked == 0
    assert middle in set(s.scalars(select(RiskMonitorPending.seq)))
    frozen.set(clock.now() + timedelta(seconds=60))
    service.monitor(s)
    assert middle in set(s.scalars(select(RiskMonitorPending.seq)))  # not yet given up
    frozen.set(clock.now() + timedelta(seconds=61))  # risk.gap_timeout_s (120 s) after it was first missed
    service.monitor(s)
    assert middle not in set(s.scalars(select(RiskMonitorPending.seq)))


def test_an_alert_is_raised_once_whatever_happens_after(s, frozen) -> None:  # type: ignore[no-untyped-def]
    first = _card(s, "card_9")
    service.screen(s, event(subject_ref="trf_9", card_ref="card_9"))
    service.mark_completed(s, "trf_9")
    _card(s, "card_10")
    block(s, "card", "card_9")
    assert service.monitor(s, limit=1).alerted == 1  # the first of the re-scan…
    block(s, "customer", "cust_1")  # …then a new revision: the re-scan starts again
    frozen.set(clock.now() + timedelta(minutes=1))
    assert [service.monitor(s, limit=1).alerted for _ in range(3)] == [1, 1, 0]
    publish_rule(s, "amount > 0", "review")  # and another: everything matches, all alerted already
    assert service.monitor(s).checked == 0
    alerts = [a["decision_id"] for a in _alerts(s)]
    assert len(alerts) == 3 == len(set(alerts)) and first.id in alerts
    assert service.count_open(s) == 3


@pytest.mark.postgres
def test_two_monitors_at_once_never_take_the_same_decision(db) -> None:  # type: ignore[no-untyped-def]
    if db.is_sqlite:
        pytest.skip("SQLite has one writer: two monitors cannot overlap")
    with db.unit_of_work() as s:
        _card(s, "card_1")
        _card(s, "card_2")
    tasks.monitor_job(db)  # the cursor exists
    with db.unit_of_work() as s:
        block(s, "card", "card_1")
    with db.session() as first, db.session() as second:
        assert service.monitor(first).alerted == 1
        assert service.monitor(second).checked == 0  # the first holds the cursor: nothing for the second
        first.commit()
        second.rollback()
        assert service.monitor(second).checked == 0  # checked under this revision already
        second.commit()
    with db.unit_of_work() as s:
        block(s, "card", "card_2")
    with db.session() as failing:
        assert service.monitor(failing).alerted == 1
        failing.rollback()  # a monitor that fails gives its work back
    assert tasks.monitor_job(db).alerted == 1
    with db.session() as s:
        alerts = [a["decision_id"] for a in _alerts(s)]
    assert len(alerts) == 2 == len(set(alerts))


@pytest.mark.postgres
def test_a_decision_committed_after_the_tail_passed_its_position_is_checked(db) -> None:  # type: ignore[no-untyped-def]
    if db.is_sqlite:
        pytest.skip("SQLite makes positions visible in order")
    with db.unit_of_work() as s:
        block(s, "card", "card_4")
    tasks.monitor_job(db)  # the cursor at the log's end
    with db.session() as slow:
        with service.engine_override(_Broken()):
            missed = _card(slow, "card_4")  # a position taken, not yet visible
        with db.unit_of_work() as s:
            _card(s, "card_5")  # the next position, visible first
        assert tasks.monitor_job(db).checked == 0  # passed: the invisible position is remembered
        slow.commit()
    report = tasks.monitor_job(db)
    assert (report.checked, report.alerted) == (1, 1)
    with db.session() as s:
        assert [a["decision_id"] for a in _alerts(s)] == [missed.id]
