"""The streaming feature state: what the decision path knows about each entity when an event arrives.

`FeatureState.features(event)` returns the event's feature vector (`dict[str, float]`, flags 0/1, NaN where
a feature does not apply) *as of* the event; it does not mutate. `observe(event)` adds the event after the
decision; `label(event_id, fraud, at)` records a label that *arrives* at `at`.

Features (`FEATURE_NAMES`, stable order; `feature_names_for(kinds)` is the subset a stream with only
those entity kinds can fill):
- the event: `amount` (major units), `hour_of_day`, `is_night`, `day_of_week`, `is_weekend` (local time
  via `utc_offset_s`), `geo_distance_km` / `geo_speed_kmh` from the payer's last located event;
- for each entity kind K (customer, card, account, device, payee, terminal, ip): `K_count_W`,
  `K_amount_sum_W` for W in 1h/1d/7d/30d, `K_seconds_since_last`; for the payer kinds also
  `K_amount_mean_W`, `K_amount_ratio_7d/30d`, `K_amount_ratio_median_30d`, `K_amount_zscore_30d`,
  `K_amount_max_ratio_30d` (the amount against the holder's largest of 30 days) and
  `K_amount_peak_ratio_7d` (the holder's largest amount of the previous 7 days against its 30-day median:
  a recent spending spike, which one odd purchase alone does not make), and `K_amount_outliers_1d/7d`
  (how many of the holder's previous purchases of the last day / week were above `OUTLIER_MULTIPLE` times
  its 30-day median: a run of purchases out of the holder's habits, as on a card in a thief's hands, says
  more than one large purchase, and lifts a stolen card's modest purchases too);
- delayed labels per kind: `K_count_delayed_W`, `K_fraud_share_W` (W in 1d/7d/30d),
  `K_days_since_fraud`, `K_days_since_first_fraud`, `K_count_since_fraud` (frauds within the retention
  horizon, 30 days + the label delay), and `K_fraud_amount_ratio_W` (W in 7d/30d): the mean amount of the
  entity's confirmed frauds in the labelled window against the mean of all its events there. It tells a
  merchant whose own ordinary-sized takings were defrauded (a compromised point of sale: its other
  customers are at risk) from one that merely saw a stolen card's outsized purchase (the card's problem,
  not the merchant's), which the fraud share alone does not; and for the counterparties (payee, terminal,
  device, IP) `K_fraud_habit_ratio_30d`: the mean, over its confirmed frauds in the labelled 30 days, of
  each fraud's amount against *its payer's own* 30-day median, as the fraud's decision saw it (`observe`'s
  `habit`). Near 1: frauds that looked like each cardholder's ordinary spending, the mark of a compromised
  point of sale, visible from its first confirmed fraud; well above 1: stolen cards spending out of habit
  there. The merchant's own mean (above) cannot tell these apart where its customers' habits differ;
- relations: `payee_new_for_customer`, `terminal_new_for_customer`, `device_new_for_customer`,
  `ip_new_for_customer` (not seen with this payer within the 30-day horizon).

Invariants:
- Sliding windows (1h, 1d, 7d, 30d) are `(t - w, t]` and include the event itself, as the handbook's
  features do. "Relative" features (`*_amount_ratio_*`, `*_amount_zscore_30d`, `*_amount_max_ratio_30d`,
  `*_amount_peak_ratio_7d`, `*_amount_outliers_*`) compare with the holder's *previous* events only.
- A label is invisible before it arrives: delayed-label aggregates count a fraud only if its label arrived
  at or before the event being decided. Their windows end where labels are complete, `(t - delay - w,
  t - delay]`; unlabelled events count as genuine (banks confirm frauds, not the genuine majority).
- Nothing older than `retention_s` (30 days + the label delay) is needed, so `evict(now)` may drop it and
  the vectors stay identical.
- The hot path is O(log n) per window (bisect over per-entity time lists with prefix sums of amounts); the
  one O(n) step is the order statistics (median, maxima) of the holder's 30 days of amounts.

Restoring after a restart (the service): `warm(events, labels)` replays logged events (any order; sorted
here) and then the labels `(event_id, fraud, arrived_at)` that arrived. `has(kind, key)` says whether an
entity is cached, `last_event_at` how far the state reaches, and `entities_cached()` how many are held.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping

from atrium.kit.money import CURRENCY_EXPONENT
from atrium.risk.domain.events import ENTITY_KINDS, RiskEvent
from atrium.risk.domain.features.names import (
    _GEO_MIN_HOURS,
    _KIND_NAN,
    _NAMES,
    _RELATION_NAMES,
    _WEEK,
    DAY,
    FEATURE_NAMES,
    FRAUD_AMOUNT_WINDOWS,
    HOLDER_KINDS,
    HORIZON_S,
    HOUR,
    LABEL_WINDOWS,
    NAN,
    OUTLIER_MULTIPLE,
    RELATION_KINDS,
    WINDOWS,
    feature_names_for,
)
from atrium.risk.domain.features.series import EMPTY, Series

__all__ = ["DAY", "FEATURE_NAMES", "FRAUD_AMOUNT_WINDOWS", "HOLDER_KINDS", "HORIZON_S", "HOUR",
           "LABEL_WINDOWS", "OUTLIER_MULTIPLE", "RELATION_KINDS", "WINDOWS", "FeatureState", "amount_major",
           "feature_names_for", "payer_habit", "payer_habit_name"]


def amount_major(event: RiskEvent) -> float:
    return event.amount_minor / 10 ** CURRENCY_EXPONENT.get(event.currency, 2)


_HABIT_NAMES = {kind: _NAMES[kind].ratio_median for kind in HOLDER_KINDS}


def payer_habit(event: RiskEvent, features: Mapping[str, float]) -> float:
    """The event's amount against its payer's own 30-day median, from the event's vector (NaN if it has
    no payer, or the payer no history): what `observe` keeps for the event's fraud label."""
    name = payer_habit_name(event)
    return NAN if name is None else float(features.get(name, NAN))


def payer_habit_name(event: RiskEvent) -> str | None:
    """The feature `payer_habit` reads for this event (None: the event has no payer)."""
    payer = _payer(event)
    return None if payer is None else _HABIT_NAMES[payer[0]]


def _payer(event: RiskEvent) -> tuple[str, str] | None:
    """Whose habits "new payee / new device" refer to: the customer, else the card, else the account."""
    for kind in HOLDER_KINDS:
        key = getattr(event, kind)
        if key is not None:
            return kind, key
    return None


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


class FeatureState:
    """Per-entity sliding windows and delayed-label aggregates, in memory. Not thread-safe: one owner."""

    def __init__(self, label_delay_s: float = 7 * DAY, *, utc_offset_s: float = 0.0,
                 horizon_s: float = HORIZON_S) -> None:
        self.label_delay_s = float(label_delay_s)
        self.utc_offset_s = float(utc_offset_s)  # local time of day for hour_of_day / is_night
        self.horizon_s = float(horizon_s)
        self.retention_s = self.horizon_s + self.label_delay_s
        self._series: dict[str, dict[str, Series]] = {kind: {} for kind in ENTITY_KINDS}
        # (payer kind, payer key, relation kind, relation key) -> (last seen at, its event id, previous at)
        self._relations: dict[tuple[str, str, str, str], tuple[float, str, float | None]] = {}
        self._geo: dict[tuple[str, str], tuple[float, float, float]] = {}
        # event id -> (time, entity keys in ENTITY_KINDS order, amount): only atomic values, so the garbage
        # collector stops tracking these tuples (hundreds of thousands of objects it would otherwise scan
        # on every full collection, a pause on the decision path).
        # event id → (time, entity keys, amount, habit: the amount ÷ its payer's 30-day median, as decided)
        self._events: dict[str, tuple[float, tuple[str | None, ...], float, float]] = {}
        self._order: deque[tuple[float, str]] = deque()
        self._labels: dict[str, tuple[bool, float]] = {}
        self.last_event_at: float | None = None

    # ---- reading -------------------------------------------------------------------------------------
    def features(self, event: RiskEvent) -> dict[str, float]:
        now = event.at
        amount = amount_major(event)
        seen = event.event_id in self._events  # re-scoring an observed event must not count it twice
        local = now + self.utc_offset_s
        hour = int((local % DAY) // HOUR)
        dow = (int(local // DAY) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        out: dict[str, float] = {
            "amount": amount, "hour_of_day": float(hour), "is_night": 1.0 if hour < 6 else 0.0,
            "day_of_week": float(dow), "is_weekend": 1.0 if dow >= 5 else 0.0,
        }
        payer = _payer(event)
        self._geo_features(event, payer, out)
        self._relation_features(event, payer, out)
        for kind in ENTITY_KINDS:
            key = getattr(event, kind)
            if key is None:
                out.update(_KIND_NAN[kind])
                continue
            series = self._series[kind].get(key, EMPTY)
            self._entity_features(kind, series, now, amount, seen, out)
        return out

    def _entity_features(self, kind: str, s: Series, now: float, amount: float, seen: bool,
                         out: dict[str, float]) -> None:
        names = _NAMES[kind]
        hi = s.upto(now)
        # With the event itself already in the series (seen), windows hold it once; otherwise add it.
        add_n, add_sum = (0, 0.0) if seen else (1, amount)
        lo_1d = lo_7d = hi
        for span, count_name, sum_name, mean_name, ratio_name in names.windows:
            lo = s.upto(now - span)
            if span == DAY:
                lo_1d = lo
            elif span == _WEEK:
                lo_7d = lo
            n, total = hi - lo + add_n, s.sum(lo, hi) + add_sum
            out[count_name] = float(n)
            out[sum_name] = total
            if mean_name:
                out[mean_name] = total / n if n else NAN
            if ratio_name:
                prev_n, prev_sum = n - 1, total - amount
                mean = prev_sum / prev_n if prev_n > 0 else NAN
                out[ratio_name] = amount / mean if mean > 0 else NAN
        if names.zscore:
            # The last window is 30 days: lo, mean and prev_n are the previous 30 days' (without the event).
            out[names.zscore] = _zscore(s, lo, hi, amount, seen, mean, prev_n)
            median, largest, peak = s.order_stats(lo, hi, lo_7d, amount if seen else None)
            out[names.ratio_median] = amount / median if median > 0 else NAN
            out[names.max_ratio] = amount / largest if largest > 0 else NAN
            out[names.peak_ratio] = peak / median if median > 0 else NAN
            if median > 0:
                without = amount if seen else None
                cut = OUTLIER_MULTIPLE * median
                out[names.outliers[0]] = float(s.count_above(lo_1d, hi, cut, without))
                out[names.outliers[1]] = float(s.count_above(lo_7d, hi, cut, without))
            else:
                out[names.outliers[0]] = out[names.outliers[1]] = NAN
        before = s.before(now)
        out[names.since_last] = now - before if before is not None else NAN
        end = now - self.label_delay_s
        hi_d = s.upto(end)
        for span, count_name, share_name, ratio_name in names.label_windows:
            lo_d = s.upto(end - span)
            count = hi_d - lo_d
            frauds, fraud_sum = s.frauds_between(end - span, end, now)
            out[count_name] = float(count)
            out[share_name] = min(1.0, frauds / count) if count else 0.0
            if ratio_name:
                total = s.sum(lo_d, hi_d)
                out[ratio_name] = fraud_sum / frauds * count / total if frauds and total > 0 else NAN
        # How long the entity has shown confirmed fraud, and how many events it has had since the last one
        # that would have been reported by now (a merchant whose compromise is over has genuine ones).
        # Only frauds within the retention horizon count, so eviction never changes a vector.
        since = now - self.retention_s
        last_fraud = s.last_fraud(now, since)
        if last_fraud is None:
            out[names.days_since_fraud] = out[names.days_since_first_fraud] = NAN
            out[names.count_since_fraud] = NAN
        else:
            out[names.days_since_fraud] = (now - last_fraud) / DAY
            out[names.days_since_first_fraud] = (now - s.first_fraud(now, since)) / DAY  # type: ignore[operator]
            out[names.count_since_fraud] = float(max(0, hi_d - s.upto(last_fraud)))
        if names.fraud_habit:  # the mean habit of its labelled frauds (see FeatureState.observe)
            out[names.fraud_habit] = (NAN if last_fraud is None
                                      else s.fraud_habit_mean(end - 30 * DAY, end, now))

    def _relation_features(self, event: RiskEvent, payer: tuple[str, str] | None,
                           out: dict[str, float]) -> None:
        for kind, name in zip(RELATION_KINDS, _RELATION_NAMES, strict=True):
            key = getattr(event, kind)
            if key is None or payer is None:
                out[name] = NAN
                continue
            rec = self._relations.get((payer[0], payer[1], kind, key))
            if rec is None:
                out[name] = 1.0
                continue
            last, last_id, previous = rec
            if last_id == event.event_id:  # re-scoring the event that made the last sighting
                last = previous  # type: ignore[assignment]
                if last is None:
                    out[name] = 1.0
                    continue
            out[name] = 1.0 if last < event.at - self.horizon_s else 0.0

    def _geo_features(self, event: RiskEvent, payer: tuple[str, str] | None, out: dict[str, float]) -> None:
        out["geo_distance_km"] = out["geo_speed_kmh"] = NAN
        if payer is None or event.lat is None or event.lon is None:
            return
        last = self._geo.get(payer)
        if last is None or last[0] > event.at:
            return
        km = _haversine_km(last[1], last[2], event.lat, event.lon)
        out["geo_distance_km"] = km
        out["geo_speed_kmh"] = km / max((event.at - last[0]) / HOUR, _GEO_MIN_HOURS)

    # ---- writing -------------------------------------------------------------------------------------
    def observe(self, event: RiskEvent, habit: float = NAN) -> None:
        """Add a decided event. Idempotent on `event_id` (a retried decision is not counted twice).

        `habit`: the event's amount against its payer's own 30-day median as its vector had it
        (`payer_habit`; NaN if unknown). Kept for when the event's fraud label arrives: a counterparty's
        frauds that looked like each payer's ordinary spending point at the counterparty."""
        if event.event_id in self._events:
            return
        now = event.at
        amount = amount_major(event)
        self._events[event.event_id] = (now, tuple(getattr(event, kind) for kind in ENTITY_KINDS), amount,
                                        float(habit))
        self._order.append((now, event.event_id))
        if self.last_event_at is None or now > self.last_event_at:
            self.last_event_at = now
        for kind in ENTITY_KINDS:
            key = getattr(event, kind)
            if key is not None:
                table = self._series[kind]
                series = table.get(key)
                if series is None:
                    series = table[key] = Series()
                series.add(now, amount)
        payer = _payer(event)
        if payer is None:
            return
        for kind in RELATION_KINDS:
            key = getattr(event, kind)
            if key is not None:
                rk = (payer[0], payer[1], kind, key)
                rec = self._relations.get(rk)
                if rec is None or rec[0] <= now:
                    self._relations[rk] = (now, event.event_id, rec[0] if rec else None)
        if event.lat is not None and event.lon is not None:
            last = self._geo.get(payer)
            if last is None or last[0] <= now:
                self._geo[payer] = (now, event.lat, event.lon)

    def label(self, event_id: str, fraud: bool, at: float, event: RiskEvent | None = None) -> bool:
        """A label arrives at `at`. Returns False if the event is unknown (neither held nor given).

        A later genuine label withdraws an earlier fraud label (an analyst's correction)."""
        held = self._events.get(event_id)
        if held is None:
            if event is None:
                return False
            held = (event.at, tuple(getattr(event, kind) for kind in ENTITY_KINDS), amount_major(event), NAN)
        event_at, keys, amount, habit = held
        previous = self._labels.get(event_id)
        was_fraud = previous is not None and previous[0]
        if fraud == was_fraud:
            return True  # nothing changes (most labels: genuine, never flagged; not even stored)
        self._labels[event_id] = (bool(fraud), float(at))
        for kind, key in zip(ENTITY_KINDS, keys, strict=True):
            if key is None:
                continue
            table = self._series[kind]
            series = table.get(key)
            if fraud:
                if series is None:
                    series = table[key] = Series()
                series.add_fraud(event_at, float(at), amount, habit)
            elif series is not None:
                series.remove_fraud(event_at)
        return True

    def warm(self, events: Iterable[RiskEvent], labels: Iterable[tuple[str, bool, float]] = (),
             habits: Mapping[str, float] | None = None) -> None:
        """Rebuild from the decision log: events (any order) with their logged habits (by event id), then
        labels (event_id, fraud, arrived_at)."""
        habits = habits or {}
        for event in sorted(events, key=lambda e: e.at):
            self.observe(event, habits.get(event.event_id, NAN))
        for event_id, fraud, arrived_at in sorted(labels, key=lambda lab: lab[2]):
            self.label(event_id, fraud, arrived_at)

    def evict(self, now: float) -> int:
        """Drop what no window can reach any more (older than `now - retention_s`)."""
        return self.evict_older_than(now - self.retention_s)

    def evict_older_than(self, ts: float) -> int:
        """Forget events before `ts` (entity windows, relations, the label index). Returns events dropped."""
        dropped = 0
        while self._order and self._order[0][0] < ts:
            _, event_id = self._order.popleft()
            self._events.pop(event_id, None)
            self._labels.pop(event_id, None)
            dropped += 1
        for table in self._series.values():
            for key in [k for k, s in table.items() if s.evict_before(ts)]:
                del table[key]
        self._relations = {k: r for k, r in self._relations.items() if r[0] >= ts}
        self._geo = {k: g for k, g in self._geo.items() if g[0] >= ts}
        return dropped

    # ---- presence --------------------------------------------------------------------------------------
    def has(self, kind: str, key: str) -> bool:
        return key in self._series[kind]

    def has_event(self, event_id: str) -> bool:
        return event_id in self._events

    def entities_cached(self) -> int:
        return sum(len(table) for table in self._series.values())

    def events_cached(self) -> int:
        return len(self._events)


def _zscore(s: Series, lo: int, hi: int, amount: float, seen: bool, mean: float, prev_n: int) -> float:
    if prev_n < 2 or math.isnan(mean):
        return NAN
    sq = s.sum_sq(lo, hi) - (amount * amount if seen else 0.0)
    var = sq / prev_n - mean * mean
    if var <= 1e-12 * max(1.0, mean * mean):
        return NAN
    return (amount - mean) / math.sqrt(var)
