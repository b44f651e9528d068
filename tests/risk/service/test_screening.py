"""Screening: one decision per subject, logged without personal data, with its cases and events, and the
channel's fail policy when the engine is slow or broken."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from atrium.events.models import OutboxEvent
from atrium.kit import clock
from atrium.risk import repository, service
from atrium.risk.domain.events import RiskEvent
from atrium.risk.errors import SubjectConflict
from atrium.risk.models import RiskCase, RiskDecision
from tests.risk.service.factories import block, event, publish_rule

RAW = {"payee_ref": "6222000012345678", "device_id": "device-aaaa-1111", "ip": "10.1.2.3"}


def _events(s, type_: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [row.payload for row in s.scalars(select(OutboxEvent).where(OutboxEvent.type == type_))]


def test_a_repeated_subject_gets_its_first_decision_and_is_counted_once(s) -> None:  # type: ignore[no-untyped-def]
    first = service.screen(s, event(subject_ref="trf_1"))
    s.commit()
    again = service.screen(s, event(subject_ref="trf_1"))
    assert again.replayed and not first.replayed
    assert (again.id, again.outcome, again.score) == (first.id, first.outcome, first.score)
    s.commit()
    later = service.screen(s, event(subject_ref="trf_2"))
    features = service.get_decision(s, later.id).features
    assert features["customer_count_1d"] == 2  # trf_1 once, and trf_2 itself
    assert s.scalar(select(RiskDecision.id).where(RiskDecision.subject_ref == "trf_1").limit(2)) == first.id


def test_the_same_subject_with_other_money_facts_is_a_conflict(s) -> None:  # type: ignore[no-untyped-def]
    service.screen(s, event(subject_ref="trf_9", amount_minor=100))
    with pytest.raises(SubjectConflict) as error:
        service.screen(s, event(subject_ref="trf_9", amount_minor=999_999))
    assert error.value.status == 409
    # A retry from another address or device is the same request: not a conflict.
    assert service.screen(s, event(subject_ref="trf_9", amount_minor=100, ip="10.9.9.9")).replayed


def test_a_subject_decided_meanwhile_by_another_process_is_returned(s, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    winner = service.screen(s, event(subject_ref="trf_race"))
    s.commit()
    real = repository.decision_by_subject
    calls = iter([None])  # the first lookup misses, as if the other process committed just after it
    monkeypatch.setattr(repository, "decision_by_subject",
                        lambda *a: next(calls, None) or real(*a))
    loser = service.screen(s, event(subject_ref="trf_race"))
    assert loser.replayed and loser.id == winner.id


def test_personal_values_are_stored_only_as_keyed_hashes_and_masks(s) -> None:  # type: ignore[no-untyped-def]
    decision = service.screen(s, event(**RAW))
    s.commit()
    row = repository.get_decision(s, decision.id)
    stored = json.dumps({c.name: getattr(row, c.key) for c in RiskDecision.__table__.columns}, default=str)
    for raw in RAW.values():
        assert raw not in stored
    assert row.displays == {"payee": "…5678", "device": "…1111", "ip": "10.1.*.*"}
    assert len(row.ip) == 32 and row.ip == service.get_decision(s, decision.id).entities["ip"]


def test_review_holds_opens_a_case_and_tells_payments_and_the_customer(s) -> None:  # type: ignore[no-untyped-def]
    publish_rule(s, "amount > 100", "review", key="big_transfer")
    decision = service.screen(s, event(subject_ref="trf_big", amount_minor=50_000))
    assert decision.outcome == "review" and decision.case_id
    assert "big_transfer" in json.dumps([r.params for r in decision.reasons])
    case = s.get(RiskCase, decision.case_id)
    assert (case.status, case.held, case.origin) == ("open", True, "review")
    opened = _events(s, "RiskReviewOpened")
    assert opened == [{**opened[0], "decision_id": decision.id, "case_id": case.id, "channel": "transfer",
                       "subject_ref": "trf_big", "customer_id": "cust_1", "transfer_id": None}]
    alert = _events(s, "RiskAlertRaised")[0]
    assert (alert["customer_id"], alert["outcome"], alert["source"]) == ("cust_1", "review", "decision")
    assert not any(raw in json.dumps(_events(s, "RiskAlertRaised")) for raw in RAW.values())


def test_a_block_list_denies_with_a_reason_the_customer_can_read(s) -> None:  # type: ignore[no-untyped-def]
    block(s, "device", RAW["device_id"], reason="stolen phone")
    decision = service.screen(s, event())
    assert decision.outcome == "deny" and decision.reason_codes[0] == "list.block.device"
    assert decision.customer_text("en") and decision.customer_text("zh")
    assert "stolen" not in decision.customer_text("en")
    assert decision.case_id is None  # denials open no case unless risk.case_on_deny
    assert _events(s, "RiskAlertRaised")[0]["reason_codes"][0] == "list.block.device"


def test_denials_open_cases_when_configured(s, risk_settings) -> None:  # type: ignore[no-untyped-def]
    risk_settings(case_on_deny="true")
    block(s, "customer", "cust_1")
    decision = service.screen(s, event())
    assert decision.outcome == "deny" and s.get(RiskCase, decision.case_id).held is False


class SlowEngine:
    def __init__(self, seconds: float) -> None:
        self.seconds, self.finished = seconds, threading.Event()

    def decide(self, event: RiskEvent, now: float | None = None):  # type: ignore[no-untyped-def]
        time.sleep(self.seconds)
        self.finished.set()
        raise AssertionError("a late answer must never be used")


class BrokenEngine:
    def decide(self, event: RiskEvent, now: float | None = None):  # type: ignore[no-untyped-def]
        raise RuntimeError("model file corrupt")


@pytest.mark.parametrize(("channel", "policy", "expected"), [
    ("card", "allow", "allow"),  # fail open: the card network's stand-in rules apply
    ("card", "deny", "deny"),  # fail closed
    ("transfer", "challenge", "challenge"),
    ("transfer", "review", "review"),
])
def test_a_timed_out_decision_follows_the_channels_fail_policy(s, risk_settings, channel, policy,  # type: ignore[no-untyped-def]
                                                                expected) -> None:
    risk_settings(policies={channel: {"on_timeout": policy, "timeout_ms": 40}})
    slow = SlowEngine(1.0)
    started = time.monotonic()
    with service.engine_override(slow):
        decision = service.screen(s, event(channel=channel, terminal_id="term_1"))
    assert time.monotonic() - started < 0.8  # answered at the budget, not after the engine
    assert decision.outcome == expected and decision.fallback
    assert decision.reason_codes == ["risk.unavailable"]
    assert decision.reasons[0].params == {"policy": policy, "cause": "timeout"}
    assert (decision.case_id is not None) == (expected == "review")
    assert not _events(s, "RiskAlertRaised")  # nothing was found: the customer is not alarmed
    from atrium.risk.service import state

    assert state.current().lock.acquire(timeout=5)  # the late engine gives the state back when it ends
    state.current().lock.release()
    s.commit()
    risk_settings(policies={channel: {"on_timeout": policy, "timeout_ms": 10_000}})  # no flaky second miss
    # The late engine changed nothing, released the state, and the next decision is a normal one.
    after = service.screen(s, event(channel=channel, terminal_id="term_1"))
    assert not after.fallback
    assert service.get_decision(s, after.id).features["customer_count_1d"] == 2


def test_an_engine_that_raises_follows_the_fail_policy(s) -> None:  # type: ignore[no-untyped-def]
    with service.engine_override(BrokenEngine()):
        decision = service.screen(s, event(channel="transfer"))
    assert (decision.outcome, decision.fallback) == ("challenge", True)
    assert decision.reasons[0].params["cause"] == "error"
    assert repository.get_decision(s, decision.id).features == {}


def test_a_busy_state_counts_against_the_budget(s, risk_settings) -> None:  # type: ignore[no-untyped-def]
    risk_settings(policies={"card": {"on_timeout": "deny", "timeout_ms": 30}})
    from atrium.risk.service import state

    cache = state.current()
    with cache.lock:  # another thread holds the state for longer than the card budget
        decision = service.screen(s, event(channel="card", card_ref="card_1"))
    assert (decision.outcome, decision.fallback) == ("deny", True)


def test_lists_are_checked_at_decision_time_not_event_time(s, frozen) -> None:  # type: ignore[no-untyped-def]
    block(s, "device", RAW["device_id"], expires_at=clock.now() + timedelta(hours=1))
    backdated = service.screen(s, event(occurred_at=clock.now() - timedelta(days=2)))
    assert backdated.outcome == "deny"


def test_an_external_authorisation_without_a_customer_is_decided_and_alerts_nobody(s) -> None:  # type: ignore[no-untyped-def]
    block(s, "merchant", "term_bad")
    external = event(channel="api", customer_id=None, account_id=None, payee_ref=None, device_id=None,
                     ip=None, card_ref="ext_card_1", terminal_id="term_bad")
    decision = service.screen(s, external)
    assert decision.outcome == "deny" and decision.reason_codes == ["list.block.merchant"]
    assert not _events(s, "RiskAlertRaised")
    detail = service.get_decision(s, decision.id)
    assert detail.entities == {"card": "ext_card_1", "terminal": "term_bad"} and detail.displays == {}
