"""The streaming feature state against a brute-force recomputation over the whole event history.

The reference below recomputes every feature from the list of earlier events and the labels that had
arrived, with no windows, indexes or prefix sums — so it checks the O(log n) state, its eviction, late
(out-of-order) events and label visibility."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atrium.risk.domain.events import ENTITY_KINDS, RiskEvent
from atrium.risk.domain.features import (
    DAY,
    FEATURE_NAMES,
    FRAUD_AMOUNT_WINDOWS,
    HOLDER_KINDS,
    LABEL_WINDOWS,
    OUTLIER_MULTIPLE,
    RELATION_KINDS,
    WINDOWS,
    FeatureState,
    feature_names_for,
    payer_habit,
)

pytestmark = pytest.mark.database_independent

T0 = 1_900_000_000.0  # 2030: dates unlike the handbook's
DELAY = 7 * DAY


def reference(history: list[RiskEvent], labels: list[tuple[str, bool, float]], event: RiskEvent,
              delay: float = DELAY, habits: dict[str, float] | None = None) -> dict[str, float]:
    """Every feature of `event` from scratch. `history` = the events observed before it; `habits` = the
    habit each was observed with (NaN if not given)."""
    habits = habits or {}
    now, amount = event.at, event.amount_minor / 100
    out: dict[str, float] = {}
    fraud_arrival: dict[str, float] = {}
    for event_id, fraud, arrived in sorted(labels, key=lambda lab: lab[2]):
        if fraud:
            fraud_arrival[event_id] = arrived
        else:
            fraud_arrival.pop(event_id, None)
    for kind in ENTITY_KINDS:
        key = getattr(event, kind)
        if key is None:
            continue
        mine = [e for e in history if getattr(e, kind) == key]
        for w, span in WINDOWS:
            prev = [e.amount_minor / 100 for e in mine if now - span < e.at <= now]
            incl = [*prev, amount]
            out[f"{kind}_count_{w}"] = len(incl)
            out[f"{kind}_amount_sum_{w}"] = sum(incl)
            if kind in HOLDER_KINDS:
                out[f"{kind}_amount_mean_{w}"] = sum(incl) / len(incl)
                if w in ("7d", "30d"):
                    mean = sum(prev) / len(prev) if prev else math.nan
                    out[f"{kind}_amount_ratio_{w}"] = amount / mean if mean > 0 else math.nan
                if w == "30d":
                    median = statistics.median(prev) if prev else math.nan
                    out[f"{kind}_amount_ratio_median_30d"] = amount / median if median > 0 else math.nan
                    std = statistics.pstdev(prev) if len(prev) >= 2 else 0.0
                    out[f"{kind}_amount_zscore_30d"] = (amount - mean) / std if std > 1e-6 else math.nan
                    largest = max(prev) if prev else math.nan
                    out[f"{kind}_amount_max_ratio_30d"] = amount / largest if largest > 0 else math.nan
                    week = [e.amount_minor / 100 for e in mine if now - 7 * DAY < e.at <= now]
                    peak = max(week) if week else math.nan
                    out[f"{kind}_amount_peak_ratio_7d"] = peak / median if median > 0 else math.nan
                    for ow, ospan in (("1d", DAY), ("7d", 7 * DAY)):
                        recent = [e.amount_minor / 100 for e in mine if now - ospan < e.at <= now]
                        above = [a for a in recent if a > OUTLIER_MULTIPLE * median]
                        out[f"{kind}_amount_outliers_{ow}"] = len(above) if median > 0 else math.nan
        earlier = [e.at for e in mine if e.at < now]
        out[f"{kind}_seconds_since_last"] = now - max(earlier) if earlier else math.nan
        end = now - delay
        for w, span in LABEL_WINDOWS:
            window = [e for e in mine if end - span < e.at <= end]
            frauds = [e for e in window if fraud_arrival.get(e.event_id, math.inf) <= now]
            out[f"{kind}_count_delayed_{w}"] = len(window)
            out[f"{kind}_fraud_share_{w}"] = len(frauds) / len(window) if window else 0.0
            if w in FRAUD_AMOUNT_WINDOWS:
                fraud_mean = statistics.mean(e.amount_minor / 100 for e in frauds) if frauds else math.nan
                mean = statistics.mean(e.amount_minor / 100 for e in window) if window else math.nan
                out[f"{kind}_fraud_amount_ratio_{w}"] = fraud_mean / mean if mean > 0 else math.nan
        known = [e.at for e in mine if fraud_arrival.get(e.event_id, math.inf) <= now
                 and now - (30 * DAY + delay) <= e.at <= now]
        if known:
            out[f"{kind}_days_since_fraud"] = (now - max(known)) / DAY
            out[f"{kind}_days_since_first_fraud"] = (now - min(known)) / DAY
            out[f"{kind}_count_since_fraud"] = len([e for e in mine if max(known) < e.at <= end])
        else:
            for name in ("days_since_fraud", "days_since_first_fraud", "count_since_fraud"):
                out[f"{kind}_{name}"] = math.nan
        if kind in RELATION_KINDS:
            known_habits = [h for e in mine if end - 30 * DAY < e.at <= end
                            and fraud_arrival.get(e.event_id, math.inf) <= now
                            and not math.isnan(h := habits.get(e.event_id, math.nan))]
            out[f"{kind}_fraud_habit_ratio_30d"] = statistics.mean(known_habits) if known_habits else math.nan
    payer = event.customer
    for kind in RELATION_KINDS:
        key = getattr(event, kind)
        if key is not None and payer is not None:
            seen = [e for e in history if e.customer == payer and getattr(e, kind) == key
                    and e.at >= now - 30 * DAY]
            out[f"{kind}_new_for_customer"] = 0.0 if seen else 1.0
    hour = int(now % DAY // 3600)
    out.update(amount=amount, hour_of_day=hour, is_night=float(hour < 6))
    return out


def same(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=1e-7, abs_tol=1e-6)


def check(state: FeatureState, history: list[RiskEvent], labels: list[tuple[str, bool, float]],
          event: RiskEvent, habits: dict[str, float] | None = None) -> dict[str, float]:
    got = state.features(event)
    assert set(got) == set(FEATURE_NAMES)
    for name, value in reference(history, labels, event, habits=habits).items():
        assert same(got[name], value), (name, got[name], value)
    return got


def card_event(n: int, at: float, minor: int, customer: int, terminal: int) -> RiskEvent:
    return RiskEvent(f"e{n}", at, "card", minor, customer=f"c{customer}", terminal=f"t{terminal}")


# A step in time: often the same instant or minutes, sometimes hours or days (so all windows matter).
steps = st.sampled_from([0.0, 60.0, 900.0, 3599.0, 3600.0, 5 * 3600.0, DAY, 3 * DAY, 8 * DAY])
event_spec = st.tuples(steps, st.integers(0, 3), st.integers(0, 3), st.integers(1, 50_000),
                       st.booleans(), st.floats(1, 12 * DAY))  # a label arrives after its event


@settings(max_examples=60)
@given(specs=st.lists(event_spec, min_size=1, max_size=40), evict_every=st.integers(1, 7))
def test_features_match_a_brute_force_recomputation(specs, evict_every) -> None:
    """Labels arrive after their event (from at once to 12 days later); the state evicts as it goes."""
    state, history, labels, pending, habits = FeatureState(), [], [], [], {}
    now = T0
    for n, (step, customer, terminal, minor, fraud, lag) in enumerate(specs):
        now += step
        for item in [p for p in pending if p[2] <= now]:
            pending.remove(item)
            state.label(*item)
            labels.append(item)
        event = card_event(n, now, minor, customer, terminal)
        vector = check(state, history, labels, event, habits)
        habits[event.event_id] = payer_habit(event, vector)  # as the engine observes it
        state.observe(event, habits[event.event_id])
        history.append(event)
        pending.append((event.event_id, fraud, now + lag))
        if n % evict_every == 0:
            state.evict(now)


@settings(max_examples=40)
@given(specs=st.lists(event_spec, min_size=1, max_size=30))
def test_a_label_is_invisible_before_it_arrives(specs) -> None:
    """Every label is handed over at once, long before it arrives: the vectors are the same as if each
    label had been delivered on arrival."""
    state, history, labels = FeatureState(), [], []
    now = T0
    events = []
    for n, (step, customer, terminal, minor, fraud, lag) in enumerate(specs):
        now += step
        events.append(card_event(n, now, minor, customer, terminal))
        labels.append((f"e{n}", fraud, now + lag))
    for event, (event_id, fraud, arrived) in zip(events, labels, strict=True):
        state.label(event_id, fraud, arrived, event=event)  # early: given the event, not yet observed
    for event in events:
        check(state, history, [lab for lab in labels if lab[2] <= event.at], event)
        state.observe(event)
        history.append(event)


@settings(max_examples=30)
@given(specs=st.lists(event_spec, min_size=2, max_size=25), data=st.data())
def test_late_events_and_warm_restart_give_the_same_vectors(specs, data) -> None:
    """Events observed out of order (late by up to an hour) and a state rebuilt with `warm` agree with the
    reference, which only depends on times."""
    events, labels, now = [], [], T0
    for n, (step, customer, terminal, minor, fraud, lag) in enumerate(specs):
        now += step
        events.append(card_event(n, now, minor, customer, terminal))
        labels.append((f"e{n}", fraud, now + lag))
    shuffled = data.draw(st.permutations(events))
    probe = RiskEvent("probe", now + DELAY + DAY, "card", 777, customer="c1", terminal="t1")
    live = FeatureState()
    for event in shuffled:
        live.observe(event)
    for label in labels:
        live.label(*label)
    warmed = FeatureState()
    warmed.warm(reversed(events), labels)
    for state in (live, warmed):
        check(state, events, labels, probe)


def test_windows_include_the_event_and_relative_features_exclude_it() -> None:
    state = FeatureState()
    for n, minor in enumerate((1000, 2000, 3000)):
        state.observe(RiskEvent(f"e{n}", T0 + n * 60, "card", minor, customer="c"))
    event = RiskEvent("e3", T0 + 600, "card", 8000, customer="c")
    f = state.features(event)
    assert f["customer_count_1h"] == 4 and f["customer_amount_sum_1h"] == 140.0
    assert f["customer_amount_ratio_30d"] == pytest.approx(80 / 20)  # previous mean 20.00
    assert f["customer_amount_ratio_median_30d"] == pytest.approx(80 / 20)
    assert f["customer_amount_max_ratio_30d"] == pytest.approx(80 / 30)  # previous largest 30.00
    assert f["customer_amount_peak_ratio_7d"] == pytest.approx(30 / 20)  # its week's peak / 30-day median
    assert f["customer_seconds_since_last"] == 480.0
    assert math.isnan(f["device_count_1h"])  # no device on the event
    # features() does not mutate; re-scoring an observed event does not count it twice.
    assert state.features(event) == f
    state.observe(event)
    again = state.features(event)
    assert again["customer_count_1h"] == 4 and again["customer_amount_ratio_30d"] == pytest.approx(4.0)


def test_amount_outliers_count_the_holders_recent_purchases_out_of_its_habits() -> None:
    """Three purchases above 3× the card's 30-day median within the week, one of them today: a spree, not
    one large purchase. The event being decided is not counted (its own ratio is another feature)."""
    state = FeatureState()
    amounts = [(20, 2000), (19, 2200), (18, 1800), (15, 2000), (14, 2100), (6, 9000), (3, 7000),
               (0.5, 8000)]  # (days before the probe, minor units): median 21.50, cut 64.50
    for n, (days_ago, minor) in enumerate(amounts):
        state.observe(RiskEvent(f"e{n}", T0 - days_ago * DAY, "card", minor, customer="c"))
    probe = RiskEvent("p", T0, "card", 50_000, customer="c")
    f = state.features(probe)
    assert f["customer_amount_outliers_7d"] == 3 and f["customer_amount_outliers_1d"] == 1
    state.observe(probe)  # re-scoring the decided event does not count it
    assert state.features(probe)["customer_amount_outliers_7d"] == 3
    fresh = state.features(RiskEvent("q", T0, "card", 500, customer="new"))
    assert math.isnan(fresh["customer_amount_outliers_7d"])  # no habits to depart from yet


def test_terminal_fraud_share_uses_the_delayed_window_and_arrived_labels_only() -> None:
    state = FeatureState(label_delay_s=DELAY)
    first = RiskEvent("f1", T0, "card", 500, customer="a", terminal="t")
    state.observe(first)
    state.observe(RiskEvent("g1", T0 + 60, "card", 500, customer="b", terminal="t"))
    state.label("f1", True, T0 + DELAY)
    probe = RiskEvent("p", T0 + DELAY - 1, "card", 500, customer="c", terminal="t")
    assert state.features(probe)["terminal_fraud_share_7d"] == 0.0  # label not arrived yet
    probe = RiskEvent("p", T0 + DELAY + 60, "card", 500, customer="c", terminal="t")
    f = state.features(probe)
    assert f["terminal_count_delayed_7d"] == 2 and f["terminal_fraud_share_7d"] == 0.5
    assert f["terminal_days_since_fraud"] == pytest.approx((DELAY + 60) / DAY)
    assert f["terminal_count_since_fraud"] == 1  # the genuine one after it
    state.label("f1", False, T0 + DELAY + 100)  # an analyst withdraws it
    probe = RiskEvent("p", T0 + DELAY + 200, "card", 500, customer="c", terminal="t")
    assert state.features(probe)["terminal_fraud_share_7d"] == 0.0


def test_fraud_amount_ratio_sets_confirmed_frauds_against_the_window_tickets() -> None:
    """A merchant defrauded at its ordinary ticket size reads ~1; a stolen card's outsized purchase at an
    otherwise quiet merchant reads well above 1; no confirmed fraud (yet) reads NaN."""
    state = FeatureState(label_delay_s=DELAY)
    for n, minor in enumerate((1000, 3000, 2000)):  # 10.00, 30.00, 20.00: mean 20.00
        state.observe(RiskEvent(f"e{n}", T0 + n * 60, "card", minor, customer=f"c{n}", terminal="t"))
    state.label("e1", True, T0 + DELAY)
    early = state.features(RiskEvent("p", T0 + DELAY - 1, "card", 500, customer="x", terminal="t"))
    assert math.isnan(early["terminal_fraud_amount_ratio_7d"])  # the label has not arrived
    f = state.features(RiskEvent("p", T0 + DELAY + 600, "card", 500, customer="x", terminal="t"))
    assert f["terminal_fraud_amount_ratio_7d"] == pytest.approx(30 / 20)
    assert f["terminal_fraud_amount_ratio_30d"] == pytest.approx(30 / 20)
    assert math.isnan(f["customer_fraud_amount_ratio_7d"])  # the probe's customer has no known fraud
    state.label("e0", True, T0 + DELAY + 700)
    f = state.features(RiskEvent("p", T0 + DELAY + 800, "card", 500, customer="x", terminal="t"))
    assert f["terminal_fraud_amount_ratio_7d"] == pytest.approx(20 / 20)  # frauds 10 and 30: mean 20
    state.label("e0", False, T0 + DELAY + 900)  # withdrawn: its amount leaves the frauds' mean
    state.label("e1", False, T0 + DELAY + 900)
    f = state.features(RiskEvent("p", T0 + DELAY + 1000, "card", 500, customer="x", terminal="t"))
    assert math.isnan(f["terminal_fraud_amount_ratio_7d"])


def test_new_payee_device_and_geovelocity() -> None:
    state = FeatureState()
    state.observe(RiskEvent("e1", T0, "transfer", 100, customer="c", payee="p1", device="d1",
                            lat=31.23, lon=121.47))
    f = state.features(RiskEvent("e2", T0 + 3600, "transfer", 100, customer="c", payee="p2", device="d1",
                                 lat=39.90, lon=116.40))  # Shanghai → Beijing in an hour
    assert f["payee_new_for_customer"] == 1.0 and f["device_new_for_customer"] == 0.0
    assert f["geo_distance_km"] == pytest.approx(1067, rel=0.01)
    assert f["geo_speed_kmh"] == pytest.approx(1067, rel=0.01)
    assert math.isnan(f["ip_new_for_customer"])
    later = RiskEvent("e3", T0 + 31 * DAY, "transfer", 100, customer="c", payee="p1")
    assert state.features(later)["payee_new_for_customer"] == 1.0  # not seen within 30 days


def test_presence_eviction_and_names() -> None:
    state = FeatureState()
    state.observe(RiskEvent("e1", T0, "card", 100, customer="c", terminal="t"))
    assert state.has("customer", "c") and state.has_event("e1") and not state.has("device", "c")
    assert state.entities_cached() == 2 and state.last_event_at == T0
    assert state.evict(T0 + state.retention_s + 1) == 1
    assert not state.has("customer", "c") and state.entities_cached() == 0
    assert len(FEATURE_NAMES) == len(set(FEATURE_NAMES))
    subset = feature_names_for(["customer", "terminal"])
    assert "terminal_new_for_customer" in subset and not any(n.startswith("device_") for n in subset)
    assert state.label("unknown", True, T0) is False
