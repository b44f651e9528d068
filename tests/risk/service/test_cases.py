"""The analysts' queue: what a case shows, what each action does, and that two analysts acting on one case
cannot release it twice."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from atrium.events.models import OutboxEvent
from atrium.kit import clock
from atrium.risk import service
from atrium.risk.errors import CaseClosed, CaseHeld
from tests.risk.service.factories import CHECKER, event, publish_rule


def _types(s) -> list[str]:  # type: ignore[no-untyped-def]
    return list(s.scalars(select(OutboxEvent.type).order_by(OutboxEvent.seq)))


def _held_case(s, **fields):  # type: ignore[no-untyped-def]
    decision = service.screen(s, event(amount_minor=50_000, **fields))
    assert decision.outcome == "review"
    return decision


@pytest.fixture()
def review_rule(s) -> None:  # type: ignore[no-untyped-def]
    publish_rule(s, "amount > 100", "review", key="big")


def test_the_queue_lists_open_cases_oldest_first_with_filters(s, frozen, review_rule) -> None:  # type: ignore[no-untyped-def]
    first = _held_case(s)
    frozen.set(clock.now() + timedelta(minutes=1))
    second = _held_case(s, channel="qr", terminal_id="term_1")
    assert [c.decision_id for c in service.list_cases(s)] == [first.id, second.id]
    assert [c.decision_id for c in service.list_cases(s, channel="qr")] == [second.id]
    assert service.list_cases(s, outcome="deny") == []
    page = service.list_cases(s, limit=1)
    rest = service.list_cases(s, after=(page[0].opened_at, page[0].id))
    assert [c.decision_id for c in rest] == [second.id]
    assert service.count_open(s) == 2


def test_a_case_shows_the_decision_its_evidence_and_the_customers_history(s, review_rule) -> None:  # type: ignore[no-untyped-def]
    earlier = service.screen(s, event(amount_minor=5_000))
    decision = _held_case(s)
    detail = service.get_case(s, decision.case_id)
    assert detail.case.held and detail.case.amount_minor == 50_000
    assert detail.decision.rule_hits[0]["key"] == "big"
    assert detail.decision.features["customer_count_1d"] == 2
    assert detail.decision.displays["ip"] == "10.1.*.*"
    assert [d.id for d in detail.recent] == [earlier.id]
    assert [a.action for a in detail.actions] == ["opened"]
    assert detail.explanation == []  # no champion model yet
    assert detail.decision.reasons[0].analyst["en"]


def test_release_lets_the_payment_through_once(s, review_rule) -> None:  # type: ignore[no-untyped-def]
    case_id = _held_case(s).case_id
    service.assign_case(s, case_id, "analyst_1")
    released = service.release_case(s, case_id, "analyst_1", "customer called back")
    assert (released.status, released.resolved_by) == ("released", "analyst_1")
    with pytest.raises(CaseClosed) as error:
        service.confirm_fraud(s, case_id, "analyst_2")
    assert error.value.status == 409
    assert _types(s).count("RiskReviewReleased") == 1 and "RiskReviewRejected" not in _types(s)
    detail = service.get_case(s, case_id)
    assert [a.action for a in detail.actions] == ["opened", "assigned", "release"]
    assert detail.actions[-1].staff_id == "analyst_1" and detail.decision.label is False


def test_confirming_fraud_labels_it_and_cancels_the_held_payment(s, review_rule) -> None:  # type: ignore[no-untyped-def]
    decision = _held_case(s)
    service.confirm_fraud(s, decision.case_id, "analyst_1")
    assert {"RiskReviewRejected", "FraudConfirmed"} <= set(_types(s))
    assert [(lab.fraud, lab.source, lab.staff_id) for lab in service.labels_of(s, decision.id)] == [
        (True, "analyst", "analyst_1")]


def test_close_is_for_cases_holding_nothing(s, review_rule, risk_settings) -> None:  # type: ignore[no-untyped-def]
    held = _held_case(s)
    with pytest.raises(CaseHeld):
        service.close_case(s, held.case_id, "analyst_1")
    risk_settings(case_on_deny="true")
    publish_rule(s, "amount > 1000", "deny", key="huge")
    denied = service.screen(s, event(amount_minor=500_000))
    closed = service.close_case(s, denied.case_id, "analyst_1", "known customer")
    assert closed.status == "closed" and service.labels_of(s, denied.id)[0].fraud is False
    assert "RiskReviewReleased" not in _types(s)


def test_blocking_from_a_case_lists_the_entity_and_records_the_action(s, review_rule) -> None:  # type: ignore[no-untyped-def]
    decision = _held_case(s)
    entry = service.block_from_case(s, decision.case_id, "analyst_1", "device", reason="takeover")
    assert entry.display == "…1111"
    assert service.screen(s, event()).outcome == "deny"
    actions = service.get_case(s, decision.case_id).actions
    assert actions[-1].action == "list_block" and actions[-1].detail["entry_id"] == entry.id


def test_two_analysts_acting_at_once_resolve_a_case_once(db, review_rule, s) -> None:  # type: ignore[no-untyped-def]
    case_id = _held_case(s).case_id
    s.commit()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def act(action, staff: str) -> None:  # type: ignore[no-untyped-def]
        with db.session() as mine:
            barrier.wait()
            try:
                action(mine, case_id, staff)
                mine.commit()
                outcomes.append("done")
            except CaseClosed:
                mine.rollback()
                outcomes.append("conflict")

    threads = [threading.Thread(target=act, args=(service.release_case, "analyst_1")),
               threading.Thread(target=act, args=(service.confirm_fraud, "analyst_2"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(outcomes) == ["conflict", "done"]
    s.expire_all()
    kinds = _types(s)
    assert kinds.count("RiskReviewReleased") + kinds.count("RiskReviewRejected") == 1
    assert len(service.labels_of(s, service.get_case(s, case_id).decision.id)) == 1
    assert service.get_case(s, case_id).case.resolved_by in (CHECKER, "analyst_1", "analyst_2")
