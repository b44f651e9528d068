"""risk.repository.log: the decision log's multi-row INSERT writes what the ORM writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from atrium.risk import repository
from atrium.risk.models import RiskDecision


def _row(i: int, **overrides: Any) -> dict[str, Any]:
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC) + timedelta(seconds=i, microseconds=123)
    values: dict[str, Any] = dict(
        id=f"rskd_test{i:04d}", channel="card", subject_ref=f"tx-{i}", fingerprint="f" * 16, occurred_at=at,
        amount_minor=1234 + i, currency="CNY", customer_id=None, card=f"card-{i % 3}", account=None,
        device=None, payee=None, terminal="term-1", ip=None, lat=31.2, lon=None,
        displays={"card": "•••• 0001"}, outcome="allow", score=0.25, model_score=None, model_version=None,
        challenger_score=0.5, challenger_version="v2", reasons=[{"code": "ok"}],
        features={"amount": 12.34, "card_count_1h": float("nan")}, rule_hits=[], shadow_hits=[],
        list_hits=[], rule_errors=[], fallback=False, latency_us=321, revision="rrev_1",
        created_at=at + timedelta(milliseconds=5),
    )
    return values | overrides


def _raw(session: Any, decision_id: str) -> tuple[Any, ...]:
    """The row as the database stores it (not through the ORM's result processing)."""
    return tuple(session.execute(text(
        "SELECT occurred_at, created_at, features, displays, reasons, challenger_score, model_score "
        "FROM risk_decisions WHERE id = :id"), {"id": decision_id}).one())


def test_the_rows_equal_those_the_orm_writes(session: Any) -> None:
    by_orm = _row(0, id="rskd_orm", subject_ref="tx-orm")
    session.add(RiskDecision(**by_orm))
    session.flush()
    written = repository.insert_decisions(session, [_row(1), _row(2)])
    assert set(written) == {"rskd_test0001", "rskd_test0002"}
    assert all(isinstance(seq, int) for seq in written.values())
    assert written["rskd_test0002"] > written["rskd_test0001"]
    # Stored byte for byte alike: the same values give the same stored form (timestamps as SQLite text, NaN
    # as JSON null, None as NULL).
    orm_raw, raw = _raw(session, "rskd_orm"), _raw(session, "rskd_test0001")
    assert raw[2:] == orm_raw[2:]
    assert type(raw[0]) is type(orm_raw[0])
    loaded = session.scalars(select(RiskDecision).where(RiskDecision.id == "rskd_test0001")).one()
    assert loaded.occurred_at == _row(1)["occurred_at"]
    assert loaded.features["amount"] == 12.34 and loaded.features["card_count_1h"] is None
    assert loaded.model_score is None and loaded.challenger_score == 0.5


def test_a_subject_already_decided_is_left_out(session: Any) -> None:
    first = repository.insert_decisions(session, [_row(1)])
    again = repository.insert_decisions(session, [_row(1, id="rskd_other"), _row(3)])
    assert set(first) == {"rskd_test0001"}
    assert set(again) == {"rskd_test0003"}  # channel + subject_ref decided before: DO NOTHING


def test_rows_must_share_their_columns(session: Any) -> None:
    with pytest.raises(ValueError, match="same columns"):
        repository.insert_decisions(session, [_row(1), {k: v for k, v in _row(2).items() if k != "lat"}])
    assert repository.insert_decisions(session, []) == {}


def test_batches_of_different_sizes_each_get_their_statement(session: Any) -> None:
    for n, start in ((1, 10), (5, 20), (1, 30)):
        written = repository.insert_decisions(session, [_row(start + i) for i in range(n)])
        assert len(written) == n


def test_positions_are_asked_for_in_chunks_any_number_of_them(session: Any) -> None:
    written = repository.insert_decisions(session, [_row(i) for i in range(3)])
    wanted = set(range(1, 40_000)) | set(written.values())  # more than SQLite binds in one statement
    found = repository.events_at(session, wanted)
    assert sorted(row.seq for row in found) == sorted(written.values())
    assert repository.events_at(session, []) == [] and repository.labels_at(session, []) == []


def test_the_log_keeps_the_features_with_a_value_and_reads_back_the_whole_vector(session: Any) -> None:
    from atrium.risk.domain.features import FEATURE_NAMES

    vector = dict.fromkeys(FEATURE_NAMES, float("nan")) | {"amount": 12.34, "card_count_1h": 3.0}
    packed = repository.pack_features(vector)
    repository.insert_decisions(session, [_row(7, features={}, feature_set=repository.FEATURE_SET,
                                               feature_values=packed)])
    loaded = session.scalars(select(RiskDecision).where(RiskDecision.id == "rskd_test0007")).one()
    assert repository.features_of(loaded) == {"amount": 12.34, "card_count_1h": 3.0}
    back = repository.logged_features(loaded)
    assert list(back) == list(FEATURE_NAMES)  # the vocabulary, in order, as the engine saw it
    assert back["amount"] == 12.34 and back["card_count_1h"] == 3.0
    assert all(v != v for k, v in back.items() if k not in ("amount", "card_count_1h"))  # NaN
    # Rows logged before vectors were packed: a JSON object, NaN as null.
    older = repository.logged_features(RiskDecision(features={"card_count_1h": None, "amount": 5}))
    assert older["card_count_1h"] != older["card_count_1h"] and older["amount"] == 5.0
    assert repository.has_features(loaded) and repository.has_features(RiskDecision(features={"amount": 5}))
    assert not repository.has_features(RiskDecision(features={}))  # the engine failed


@pytest.mark.parametrize("size", [1, 3, 40])
def test_decided_subjects_finds_any_subject_decided_before_in_its_channel(session: Any, size: int) -> None:
    repository.insert_decisions(session, [_row(1), _row(2, channel="transfer", subject_ref="tx-shared")])
    fresh = [("card", f"new-{i}") for i in range(size)]
    assert not repository.decided_subjects(session, fresh)
    assert repository.decided_subjects(session, [*fresh, ("card", "tx-1")])
    assert not repository.decided_subjects(session, [("card", "tx-shared")])  # another channel's subject
    assert repository.decided_subjects(session, [*fresh, ("transfer", "tx-shared")])
