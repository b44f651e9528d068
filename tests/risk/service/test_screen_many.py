"""Set-wise screening (the decision log's group commit): a batch decides as one-by-one screening would —
each decision counts the batch's earlier ones — logs every decision, never reads its own rows back, leaves
nothing in the feature state when it rolls back, and answers what the engine misses by the fail policy."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from atrium.kit import clock
from atrium.kit.ids import new_id
from atrium.risk import repository, service
from atrium.risk.domain.events import RiskEvent
from atrium.risk.models import RiskDecision
from atrium.risk.service import entities, screening, state
from atrium.risk.service.screening import BatchRefused, screen_many
from atrium.risk.service.state import FeatureCache
from tests.risk.service.factories import block, event
from tests.risk.service.test_state import same


def card(**fields: object):  # type: ignore[no-untyped-def]
    values: dict[str, object] = {"channel": "card", "card_ref": "card_1", "terminal_id": "term_1",
                                 "payee_ref": None, "account_id": None, "device_id": None, "ip": None}
    return event(**(values | fields))


def probe(**fields: object) -> RiskEvent:
    return entities.event_of(new_id("probe"), card(**fields), clock.now().timestamp())[0]


def logged_features(s, decision_id: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    row = repository.get_decision(s, decision_id)
    assert row is not None
    return repository.features_of(row)


def test_each_decision_of_a_batch_counts_the_ones_before_it(s) -> None:  # type: ignore[no-untyped-def]
    reads = screen_many(s, [card(amount_minor=1_000 * (i + 1)) for i in range(4)])
    counts = [logged_features(s, r.id)["card_count_1d"] for r in reads]
    assert counts == [1, 2, 3, 4]  # one by one, the log would have said the same
    assert [r.replayed for r in reads] == [False] * 4


def test_after_a_batch_the_state_equals_a_rebuild_from_the_log(s) -> None:  # type: ignore[no-untyped-def]
    screen_many(s, [card(card_ref=f"card_{i % 3}", terminal_id=f"term_{i % 2}", amount_minor=500 + i)
                    for i in range(9)])
    s.commit()
    service.screen(s, card(card_ref="card_1"))  # one by one after a batch
    screen_many(s, [card(card_ref="card_1"), card(card_ref="card_2", terminal_id="term_1")])
    s.commit()
    cache = state.current()
    for p in (probe(card_ref="card_1"), probe(card_ref="card_2", terminal_id="term_0"), probe()):
        assert same(cache.features(s, p), FeatureCache().features(s, p))


def test_a_batch_does_not_read_its_own_rows_back(s, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    screen_many(s, [card(), card()])
    s.commit()
    read_back: list[int] = []
    original = repository.events_after

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        rows = original(*args, **kwargs)
        read_back.extend(row.seq for row in rows)
        return rows

    monkeypatch.setattr(repository, "events_after", counting)
    screen_many(s, [card(), card()])
    s.commit()
    assert read_back == []  # the log's tail skipped this process's own positions
    assert state.current().features(s, probe())["card_count_1d"] == 5  # four logged, and the probe


@pytest.mark.parametrize("why", ["repeated", "decided"])
def test_a_repeated_or_decided_subject_refuses_the_batch_and_writes_nothing(s, why) -> None:  # type: ignore[no-untyped-def]
    first = card(subject_ref="auth_1")
    if why == "decided":
        service.screen(s, first)
        batch = [card(), card(subject_ref="auth_1")]
    else:
        batch = [first, card(), card(subject_ref="auth_1")]
    before = s.scalar(select(func.count()).select_from(RiskDecision))
    with pytest.raises(BatchRefused):
        screen_many(s, batch)
    assert s.scalar(select(func.count()).select_from(RiskDecision)) == before


def test_a_batch_rolled_back_leaves_nothing_in_the_state(s) -> None:  # type: ignore[no-untyped-def]
    service.screen(s, card())
    s.commit()
    savepoint = s.begin_nested()
    screen_many(s, [card(), card(), card()])
    savepoint.rollback()
    cache, p = state.current(), probe()
    assert same(cache.features(s, p), FeatureCache().features(s, p))
    assert cache.features(s, p)["card_count_1d"] == 2  # the one committed decision and the probe
    assert cache.resets == 1


def test_lists_and_follow_ups_act_inside_a_batch(s) -> None:  # type: ignore[no-untyped-def]
    block(s, "card", "card_9")
    ok, blocked = screen_many(s, [card(), card(card_ref="card_9")])
    assert ok.outcome == "allow" and blocked.outcome == "deny"
    assert blocked.reason_codes == ["list.block.card"]


class StallsOnSecond:
    """Decides the first event at once and stalls on the second, longer than the budget."""

    def __init__(self, stall_s: float) -> None:
        self.stall_s, self.calls, self.finished = stall_s, 0, threading.Event()

    def decide(self, event: RiskEvent, now: float | None = None):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.calls == 2:
            time.sleep(self.stall_s)
            self.finished.set()
        from atrium.risk.domain.decide import Decision

        return Decision(outcome="allow", score=0.0)


def test_what_the_engine_does_not_answer_in_time_gets_the_fail_policy(s, risk_settings,  # type: ignore[no-untyped-def]
                                                                         monkeypatch) -> None:
    risk_settings(policies={"card": {"on_timeout": "deny", "timeout_ms": 300}})
    warnings: list[tuple[str, dict]] = []  # type: ignore[type-arg]
    monkeypatch.setattr(screening.log, "warning", lambda event, **fields: warnings.append((event, fields)))
    engine = StallsOnSecond(1.0)
    started = time.monotonic()
    with service.engine_override(engine):
        reads = screen_many(s, [card(), card(), card()])
    # One warning for the batch, saying where its time went — not a log line per fallen-back decision.
    ((event, fields),) = warnings
    assert (event, fields["batch"], fields["fallbacks"], fields["causes"]) == (
        "risk_engine_unavailable", 3, 2, {"timeout": 2})
    assert {"lock_wait_ms", "prepare_ms", "elapsed_ms"} <= fields.keys()
    assert time.monotonic() - started < 0.9  # answered at the budget, not after the engine
    assert [(r.outcome, r.fallback) for r in reads] == [("allow", False), ("deny", True), ("deny", True)]
    assert reads[1].reasons[0].params == {"policy": "deny", "cause": "timeout"}
    assert engine.finished.wait(5)
    assert state.current().lock.acquire(timeout=5)  # the late engine gives the state back when it ends…
    state.current().lock.release()
    assert engine.calls == 2  # …without deciding the third, past its deadline: nobody waits for it
    s.commit()
    p = probe()
    assert same(state.current().features(s, p), FeatureCache().features(s, p))
    assert state.current().features(s, p)["card_count_1d"] == 4  # the three logged, and the probe
