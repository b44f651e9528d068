"""The feature state cache against the decision log: other processes' decisions and labels, rollbacks, and
a restarted process — all give the features a fresh rebuild from the log gives."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atrium.kit import clock
from atrium.kit.clock import FrozenClock
from atrium.kit.ids import new_id
from atrium.risk import service
from atrium.risk.domain.events import RiskEvent
from atrium.risk.service import entities, state
from atrium.risk.service.state import FeatureCache, _Cursor
from atrium.schema import metadata
from tests.risk.service.factories import event

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def same(a: dict[str, float], b: dict[str, float]) -> bool:
    assert a.keys() == b.keys()
    bad = {k: (a[k], b[k]) for k in a if not (
        (math.isnan(a[k]) and math.isnan(b[k])) or math.isclose(a[k], b[k], rel_tol=1e-9, abs_tol=1e-9))}
    assert not bad, bad
    return True


def probe(**fields: object) -> RiskEvent:
    return entities.event_of(new_id("probe"), event(**fields), clock.now().timestamp())[0]


def screen_with(cache: FeatureCache, s, **fields: object):  # type: ignore[no-untyped-def]
    with state.using(cache):
        decision = service.screen(s, event(**fields))
    s.commit()
    return decision


def test_two_processes_count_each_others_decisions(s) -> None:  # type: ignore[no-untyped-def]
    a, b = FeatureCache(), FeatureCache()
    screen_with(a, s)
    screen_with(b, s)
    third = screen_with(a, s)
    assert service.get_decision(s, third.id).features["customer_count_1d"] == 3
    p = probe()
    assert same(a.features(s, p), b.features(s, p))


def test_a_rolled_back_decision_leaves_no_trace(s) -> None:  # type: ignore[no-untyped-def]
    cache = FeatureCache()
    with state.using(cache):
        service.screen(s, event(subject_ref="trf_rolled_back"))
        s.rollback()  # the payment failed after its decision: the decision is gone with it
        kept = service.screen(s, event())
        s.commit()
    assert service.get_decision(s, kept.id).features["customer_count_1d"] == 1
    p = probe()
    assert same(cache.features(s, p), FeatureCache().features(s, p))


def test_a_decision_rolled_back_in_a_savepoint_leaves_no_trace(s) -> None:  # type: ignore[no-untyped-def]
    cache = FeatureCache()
    with state.using(cache):
        nested = s.begin_nested()
        service.screen(s, event(subject_ref="trf_savepoint"))
        nested.rollback()  # e.g. the decision API's group commit rolling back one unit
        kept = service.screen(s, event())
        s.commit()
        after = service.screen(s, event())
    assert service.get_decision(s, kept.id).features["customer_count_1d"] == 1
    assert service.get_decision(s, after.id).features["customer_count_1d"] == 2


def test_decisions_batched_in_one_transaction_see_each_other_and_vanish_together(s) -> None:  # type: ignore[no-untyped-def]
    cache = FeatureCache()
    with state.using(cache):
        for _ in range(3):  # e.g. the decision API's group commit: one transaction, a savepoint each
            with s.begin_nested():
                last = service.screen(s, event())
        assert service.get_decision(s, last.id).features["customer_count_1d"] == 3
        s.rollback()  # the batch's COMMIT failed
        alone = service.screen(s, event())
        s.commit()
    assert service.get_decision(s, alone.id).features["customer_count_1d"] == 1
    assert cache.resets == 1
    p = probe()
    assert same(cache.features(s, p), FeatureCache().features(s, p))


def test_a_rolled_back_row_the_log_read_only_skipped_past_is_not_skipped_again(s) -> None:  # type: ignore[no-untyped-def]
    a, b = FeatureCache(), FeatureCache()
    screen_with(a, s)  # A holds cust_1
    with state.using(b):
        service.screen(s, event(customer_id="cust_9", account_id="acct_9", payee_ref="payee-9",
                                device_id="device-9", ip="10.9.9.9"))  # uncommitted, nothing A holds
    with state.using(a):
        service.screen(s, event(customer_id="cust_2"))  # A's log read moves past the row above
    s.rollback()  # on SQLite the next row reuses the rolled-back position
    screen_with(b, s)
    p = probe()
    assert a.features(s, p)["customer_count_1d"] == 3
    assert same(a.features(s, p), FeatureCache().features(s, p))


def test_a_committed_batch_keeps_the_cache(s) -> None:  # type: ignore[no-untyped-def]
    cache = FeatureCache()
    with state.using(cache):
        service.screen(s, event())
        service.screen(s, event())
        s.commit()
        with s.begin_nested():  # a savepoint that rolls back after the cache read only committed rows
            service.screen(s, event(customer_id="cust_other"))
            s.rollback()
        assert service.get_decision(s, service.screen(s, event()).id).features["customer_count_1d"] == 3
    assert cache.resets == 0


def test_a_label_rolled_back_after_it_was_read_leaves_no_trace(s, frozen, risk_settings) -> None:  # type: ignore[no-untyped-def]
    risk_settings(label_delay_days=0.0)
    cache = FeatureCache()
    first = screen_with(cache, s, channel="card", card_ref="card_1", terminal_id="term_1", payee_ref=None)
    frozen.set(clock.now() + timedelta(minutes=1))
    service.label(s, first.id, True, "analyst")
    p = probe(channel="card", card_ref="card_2", terminal_id="term_1", customer_id="cust_2", payee_ref=None)
    assert cache.features(s, p)["terminal_fraud_share_1d"] == 1.0  # read inside the labelling transaction
    s.rollback()  # the analyst's action failed
    assert cache.features(s, p)["terminal_fraud_share_1d"] == 0.0
    assert same(cache.features(s, p), FeatureCache().features(s, p))


def test_with_a_refresh_interval_decisions_count_from_the_next_log_read(s, risk_settings) -> None:  # type: ignore[no-untyped-def]
    risk_settings(state_refresh_ms=60_000)  # read the log once a minute at most
    cache = FeatureCache()
    screen_with(cache, s)
    screen_with(FeatureCache(), s)
    p = probe()
    assert cache.features(s, p)["customer_count_1d"] == 1  # only the probe: nothing read since warming
    cache._refreshed_at = -1e18  # the minute has passed
    assert cache.features(s, p)["customer_count_1d"] == 3


def test_labels_written_elsewhere_reach_the_state(s, frozen, risk_settings) -> None:  # type: ignore[no-untyped-def]
    risk_settings(label_delay_days=0.01)  # 864 s
    cache = FeatureCache()
    fraud = screen_with(cache, s, terminal_id="term_7", channel="card", card_ref="card_1",
                        occurred_at=clock.now())
    screen_with(cache, s, terminal_id="term_7", channel="card", card_ref="card_2", occurred_at=clock.now())
    frozen.set(clock.now() + timedelta(minutes=5))
    service.label(s, fraud.id, True, "chargeback")  # an analyst's process, not this one
    s.commit()
    frozen.set(clock.now() + timedelta(hours=1))
    later = probe(terminal_id="term_7", channel="card", card_ref="card_3", customer_id="cust_9")
    features = cache.features(s, later)
    assert features["terminal_fraud_share_1d"] == 0.5
    assert same(features, FeatureCache().features(s, later))


def test_the_cursor_remembers_skipped_positions_until_they_appear_or_expire() -> None:
    cursor = _Cursor()
    cursor.start(10, present=[9, 10], now=0.0)
    assert set(cursor.gaps) >= {8} and 9 not in cursor.gaps
    cursor.see(13, now=1.0)
    assert cursor.high == 13 and {11, 12} <= set(cursor.gaps)
    cursor.see(11, now=2.0)
    assert 11 not in cursor.gaps
    cursor.expire(now=40.0, timeout=50.0)
    assert 12 in cursor.gaps  # first missed at 1.0: not given up yet
    cursor.expire(now=200.0, timeout=50.0)
    assert not cursor.gaps


def test_a_decision_committed_late_on_postgresql_is_still_seen(db) -> None:  # type: ignore[no-untyped-def]
    if db.is_sqlite:
        pytest.skip("SQLite has one writer at a time: positions become visible in order")
    cache = FeatureCache()
    with db.session() as reader:
        cache.features(reader, probe())  # loads cust_1 (nothing yet) and starts the cursor
        reader.commit()
        slow, quick = db.session(), db.session()
        with state.using(FeatureCache()):
            early = service.screen(slow, event(subject_ref="trf_early"))  # lower position, commits last
            service.screen(quick, event(subject_ref="trf_quick"))
        quick.commit()
        assert cache.features(reader, probe())["customer_count_1d"] == 2  # quick + the probe
        reader.commit()
        slow.commit()
        assert cache.features(reader, probe())["customer_count_1d"] == 3
        assert early.id
        slow.close()
        quick.close()


def _wipe(db) -> None:  # type: ignore[no-untyped-def]
    names = [t.name for t in reversed(metadata.sorted_tables)
             if t.name.startswith("risk_") or t.name == "event_outbox"]
    with db.engine.begin() as conn:
        if not db.is_sqlite:  # TRUNCATE does not fire the append-only row triggers (atrium.risk.ddl)
            conn.exec_driver_sql("TRUNCATE " + ", ".join(names) + " CASCADE")
            return
        for table in reversed(metadata.sorted_tables):
            if table.name in names:
                conn.execute(table.delete())


action = st.one_of(
    st.tuples(st.just("screen"), st.sampled_from("AB"), st.integers(0, 2), st.integers(0, 3),
              st.integers(0, 2), st.integers(0, 1), st.integers(1, 500_000), st.booleans()),
    st.tuples(st.just("label"), st.integers(0, 40), st.booleans()),
    st.tuples(st.just("rollback"), st.integers(0, 2)),
    st.tuples(st.just("batch"), st.sampled_from("AB"), st.lists(st.integers(0, 2), min_size=1, max_size=4),
              st.booleans()),
    st.tuples(st.just("evict"),),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.integers(60, 40_000), action), min_size=5, max_size=35),
       repeat=st.booleans())
def test_long_lived_caches_equal_a_fresh_rebuild_from_the_log(db, risk_settings, steps, repeat) -> None:  # type: ignore[no-untyped-def]
    """Two processes screen and label in any interleaving (with retries of the same subject, rolled back
    payments, batches committed or rolled back together, evictions); afterwards both — and a process
    started now — compute the same vectors."""
    _wipe(db)
    risk_settings(label_delay_days=0.5)
    fake = FrozenClock(T0)
    previous = clock.use(fake)
    caches = {"A": FeatureCache(), "B": FeatureCache()}
    decided: list[str] = []
    try:
        with db.session() as s:
            for gap, (kind, *args) in steps:
                fake.set(fake.now() + timedelta(seconds=gap))
                if kind == "screen":
                    who, customer, payee, device, terminal, amount, card = args
                    fields = {"customer_id": f"cust_{customer}", "payee_ref": f"payee-{payee}",
                              "device_id": f"device-{device}", "terminal_id": f"term_{terminal}",
                              "amount_minor": amount, "occurred_at": fake.now(),
                              "subject_ref": f"s{len(decided)}",
                              "card_ref": f"card_{customer}" if card else None}
                    decided.append(screen_with(caches[who], s, **fields).id)
                    if repeat:  # a retry of the same subject: the first decision, counted once
                        assert screen_with(caches["B" if who == "A" else "A"], s, **fields).replayed
                elif kind == "label" and decided:
                    service.label(s, decided[args[0] % len(decided)], args[1], "analyst")
                    s.commit()
                elif kind == "rollback":
                    with state.using(caches["AB"[args[0] % 2]]):
                        service.screen(s, event(customer_id=f"cust_{args[0]}", subject_ref=new_id("gone")))
                    s.rollback()
                elif kind == "batch":  # decisions sharing one transaction, committed or not
                    who, customers, commit = args
                    with state.using(caches[who]):
                        for customer in customers:
                            with s.begin_nested():
                                service.screen(s, event(customer_id=f"cust_{customer}",
                                                        occurred_at=fake.now(), subject_ref=new_id("batch")))
                    s.commit() if commit else s.rollback()
                elif kind == "evict":
                    caches["A"].evict()
            fake.set(fake.now() + timedelta(hours=13))
            for customer in range(3):
                for terminal in range(2):
                    p = probe(customer_id=f"cust_{customer}", terminal_id=f"term_{terminal}",
                              payee_ref="payee-1", device_id="device-0", card_ref=f"card_{customer}")
                    fresh = FeatureCache().features(s, p)
                    assert same(caches["A"].features(s, p), fresh)
                    assert same(caches["B"].features(s, p), fresh)
            s.rollback()
    finally:
        clock.use(previous)


def test_old_gaps_are_asked_for_once_a_second_young_ones_on_every_read() -> None:
    cursor = _Cursor()
    cursor.see(1000, now=0.0)  # positions 1..999 skipped (a truncated log, burned sequence values)
    assert len(cursor.due(now=0.1)) == 999  # the first read asks for all of them
    assert len(cursor.due(now=0.2)) == 999  # still young: every read
    cursor.see(2000, now=2.0)  # 1001..1999 skipped now; 1..999 are two seconds old
    young = cursor.due(now=2.1)
    assert len(young) == 999 + 999  # a second since the last full check: all of them
    assert set(cursor.due(now=2.2)) == set(range(1001, 2000))  # then only the young ones
    assert set(cursor.due(now=2.9)) == set(range(1001, 2000))
    assert cursor.due(now=3.05) == []  # none young any more, and the last full check was at 2.1
    assert len(cursor.due(now=3.2)) == 1998  # the once-a-second full check
    cursor.see(5, now=3.3)
    assert 5 not in cursor.due(now=4.5)


@pytest.mark.parametrize("batched", [False, True])
def test_a_fraud_s_habit_reaches_its_terminal_as_logged_and_after_a_restart(s, frozen, risk_settings,
                                                                            batched) -> None:  # type: ignore[no-untyped-def]
    """The terminal's `fraud_habit_ratio_30d` is its labelled fraud's amount against the payer's own
    median, as the fraud's decision logged it, whether the state observed the decision as it was made
    (a batch) or read it from the log (one by one), and in a process started afterwards."""
    from atrium.risk.service.screening import screen_many

    risk_settings(label_delay_days=0.0)
    cache = FeatureCache()
    card = {"channel": "card", "card_ref": "card_1", "customer_id": "cust_1", "payee_ref": None}
    for amount in (1_000, 3_000, 2_000):  # the payer's habit: a median of 20.00
        screen_with(cache, s, **card, terminal_id="term_home", amount_minor=amount)
        frozen.set(clock.now() + timedelta(hours=1))
    fraud_fields = {**card, "terminal_id": "term_1", "amount_minor": 5_000}
    if batched:
        with state.using(cache):
            fraud = screen_many(s, [event(**fraud_fields)])[0]
        s.commit()
    else:
        fraud = screen_with(cache, s, **fraud_fields)
    logged = service.get_decision(s, fraud.id).features["customer_amount_ratio_median_30d"]
    assert logged == 2.5  # 50.00 against a median of 20.00
    frozen.set(clock.now() + timedelta(minutes=1))
    service.label(s, fraud.id, True, "analyst")
    s.commit()
    frozen.set(clock.now() + timedelta(minutes=1))
    p = probe(channel="card", card_ref="card_2", customer_id="cust_2", terminal_id="term_1", payee_ref=None)
    assert cache.features(s, p)["terminal_fraud_habit_ratio_30d"] == 2.5
    assert same(cache.features(s, p), FeatureCache().features(s, p))  # a restarted process agrees
