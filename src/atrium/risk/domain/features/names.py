"""The feature vector's names and windows (`FEATURE_NAMES`, stable order) — see the package docstring for
what each feature means."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Final, NamedTuple

from atrium.risk.domain.events import ENTITY_KINDS

HOUR: Final = 3600.0
DAY: Final = 86400.0
WINDOWS: Final = (("1h", HOUR), ("1d", DAY), ("7d", 7 * DAY), ("30d", 30 * DAY))
LABEL_WINDOWS: Final = (("1d", DAY), ("7d", 7 * DAY), ("30d", 30 * DAY))
# Labelled windows long enough to hold several frauds, for `K_fraud_amount_ratio_W`.
FRAUD_AMOUNT_WINDOWS: Final = ("7d", "30d")
# Entities whose own amount history the amount is compared with (the payer side).
HOLDER_KINDS: Final = ("customer", "card", "account")
# Counterparties flagged when new for the payer (`<kind>_new_for_customer`).
RELATION_KINDS: Final = ("payee", "terminal", "device", "ip")
HORIZON_S: Final = 30 * DAY
_WEEK: Final = 7 * DAY
# "Out of the holder's habits": above this multiple of its own 30-day median amount. A round, generic
# cut (a bank's usual unusual-spend flag), not fitted to any data; the model weighs the counts.
OUTLIER_MULTIPLE: Final = 3.0
NAN: Final = math.nan
_GEO_MIN_HOURS: Final = 1 / 60  # two located events a second apart are not a 36,000 km/h journey


class _KindNames(NamedTuple):
    """A kind's feature names, built once so the hot path formats no strings."""

    windows: tuple[tuple[float, str, str, str | None, str | None], ...]  # span, count, sum, mean, ratio
    zscore: str | None
    ratio_median: str
    max_ratio: str
    peak_ratio: str
    outliers: tuple[str, str]  # 1d, 7d
    since_last: str
    label_windows: tuple[tuple[float, str, str, str | None], ...]  # span, count, share, amount ratio
    days_since_fraud: str
    days_since_first_fraud: str
    count_since_fraud: str
    fraud_habit: str | None  # counterparties only (RELATION_KINDS)

    def all(self) -> tuple[str, ...]:
        names: list[str] = []
        for window in self.windows:
            names += [window[1], window[2]]
        names += [w[3] for w in self.windows if w[3]]
        names += [w[4] for w in self.windows if w[4]]
        if self.zscore:
            names += [self.ratio_median, self.zscore, self.max_ratio, self.peak_ratio, *self.outliers]
        names.append(self.since_last)
        for _, count, share, _ in self.label_windows:
            names += [count, share]
        names += [self.days_since_fraud, self.days_since_first_fraud, self.count_since_fraud]
        names += [w[3] for w in self.label_windows if w[3]]
        if self.fraud_habit:
            names.append(self.fraud_habit)
        return tuple(names)


def _kind_names(kind: str) -> _KindNames:
    holder = kind in HOLDER_KINDS
    windows = tuple(
        (span, f"{kind}_count_{w}", f"{kind}_amount_sum_{w}", f"{kind}_amount_mean_{w}" if holder else None,
         f"{kind}_amount_ratio_{w}" if holder and w in ("7d", "30d") else None)
        for w, span in WINDOWS
    )
    return _KindNames(
        windows=windows,
        zscore=f"{kind}_amount_zscore_30d" if holder else None,
        ratio_median=f"{kind}_amount_ratio_median_30d",
        max_ratio=f"{kind}_amount_max_ratio_30d",
        peak_ratio=f"{kind}_amount_peak_ratio_7d",
        outliers=(f"{kind}_amount_outliers_1d", f"{kind}_amount_outliers_7d"),
        since_last=f"{kind}_seconds_since_last",
        label_windows=tuple((span, f"{kind}_count_delayed_{w}", f"{kind}_fraud_share_{w}",
                             f"{kind}_fraud_amount_ratio_{w}" if w in FRAUD_AMOUNT_WINDOWS else None)
                            for w, span in LABEL_WINDOWS),
        days_since_fraud=f"{kind}_days_since_fraud",
        days_since_first_fraud=f"{kind}_days_since_first_fraud",
        count_since_fraud=f"{kind}_count_since_fraud",
        fraud_habit=f"{kind}_fraud_habit_ratio_30d" if kind in RELATION_KINDS else None,
    )


_EVENT_NAMES: Final = ("amount", "hour_of_day", "is_night", "day_of_week", "is_weekend",
                       "geo_distance_km", "geo_speed_kmh")
_RELATION_NAMES: Final = tuple(f"{kind}_new_for_customer" for kind in RELATION_KINDS)
_NAMES: Final = {kind: _kind_names(kind) for kind in ENTITY_KINDS}
_KIND_NAN: Final = {kind: dict.fromkeys(names.all(), NAN) for kind, names in _NAMES.items()}

# The stable, ordered vocabulary of features (the rule language validates names against it; a model
# stores the subset and order it was trained on).
FEATURE_NAMES: Final[tuple[str, ...]] = (
    _EVENT_NAMES + _RELATION_NAMES + tuple(n for kind in ENTITY_KINDS for n in _NAMES[kind].all())
)


def feature_names_for(kinds: Iterable[str]) -> tuple[str, ...]:
    """The features that can have a value when events carry only these entity kinds (FEATURE_NAMES order):
    a feature log for such a stream needs no other column."""
    present = set(kinds)
    has_payer = bool(present & set(HOLDER_KINDS))
    absent = {n for kind in ENTITY_KINDS if kind not in present for n in _NAMES[kind].all()}
    absent |= {name for kind, name in zip(RELATION_KINDS, _RELATION_NAMES, strict=True)
               if not (has_payer and kind in present)}
    return tuple(n for n in FEATURE_NAMES if n not in absent)
