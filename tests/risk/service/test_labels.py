"""Labels arrive late, and training sets respect it: a label counts only once it has arrived."""

from __future__ import annotations

from datetime import timedelta

import pytest

from atrium.kit import clock
from atrium.risk import service
from atrium.risk.errors import DecisionNotFound, InvalidLabel
from tests.risk.service.factories import event
from tests.risk.service.test_screening import BrokenEngine

DAY = timedelta(days=1)


def _screen(s, **fields):  # type: ignore[no-untyped-def]
    decision = service.screen(s, event(occurred_at=clock.now(), **fields))
    s.commit()
    return decision.id


def _labels(ts) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return dict(zip(ts.decision_ids, ts.y.tolist(), strict=True))


def test_confirmed_fraud_reaches_the_next_training_set_only_after_its_label_arrives(s, frozen) -> None:  # type: ignore[no-untyped-def]
    start = clock.now()
    fraud = _screen(s, amount_minor=900_000)
    genuine = _screen(s)
    frozen.set(start + 10 * DAY)  # past the 7-day label delay, no report yet
    before = service.training_rows(s, start, start + DAY, labels_known_at=clock.now())
    assert _labels(before) == {fraud: 0, genuine: 0}  # unreported activity counts as genuine

    frozen.set(start + 12 * DAY)
    service.label(s, fraud, True, "chargeback")
    s.commit()
    after = service.training_rows(s, start, start + DAY, labels_known_at=clock.now())
    assert _labels(after) == {fraud: 1, genuine: 0}
    # A model trained as of day 11 must not see the label that arrived on day 12, even if trained later.
    replay = service.training_rows(s, start, start + DAY, labels_known_at=start + 11 * DAY)
    assert _labels(replay) == {fraud: 0, genuine: 0}
    assert after.X.shape == (2, len(after.feature_names)) and after.frauds == 1


def test_recent_unlabelled_decisions_are_left_out_and_labelled_ones_kept(s, frozen) -> None:  # type: ignore[no-untyped-def]
    start = clock.now()
    old = _screen(s)
    frozen.set(start + 5 * DAY)
    recent = _screen(s)
    reported = _screen(s)
    service.label(s, reported, True, "customer")
    s.commit()
    ts = service.training_rows(s, start, start + 30 * DAY, labels_known_at=start + 8 * DAY)
    assert _labels(ts) == {old: 0, reported: 1}  # `recent` is 3 days old: its truth is not known yet
    assert recent not in ts.decision_ids


def test_the_latest_arrived_label_is_the_truth(s, frozen) -> None:  # type: ignore[no-untyped-def]
    start = clock.now()
    decision = _screen(s)
    frozen.set(start + DAY)
    service.label(s, decision, True, "analyst", "staff_1")
    frozen.set(start + 2 * DAY)
    service.label(s, decision, False, "analyst", "staff_2")  # a correction
    s.commit()
    assert _labels(service.training_rows(s, start, start + DAY, start + 2 * DAY)) == {decision: 0}
    assert _labels(service.training_rows(s, start, start + DAY, start + DAY)) == {decision: 1}
    assert [lab.fraud for lab in service.labels_of(s, decision)] == [True, False]


def test_decisions_after_the_knowledge_date_and_fallbacks_are_left_out(s, frozen) -> None:  # type: ignore[no-untyped-def]
    start = clock.now()
    with service.engine_override(BrokenEngine()):
        _screen(s)  # logged without features
    kept = _screen(s)
    frozen.set(start + 9 * DAY)
    _screen(s)  # after labels_known_at below
    ts = service.training_rows(s, start, start + 30 * DAY, labels_known_at=start + 8 * DAY)
    assert ts.decision_ids == (kept,)


def test_labels_need_a_known_decision_and_source(s) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DecisionNotFound):
        service.label(s, "rskd_missing", True, "analyst")
    decision = _screen(s)
    with pytest.raises(InvalidLabel):
        service.label(s, decision, True, "gossip")
