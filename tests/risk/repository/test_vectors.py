"""risk.repository.vectors: the decision log's packed feature vectors read back exactly, over the vocabulary
they were written with."""

from __future__ import annotations

import math
import struct
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from atrium.risk import repository
from atrium.risk.domain.features import FEATURE_NAMES
from atrium.risk.models import RiskDecision, RiskFeatureSet
from atrium.risk.repository import vectors

_VALUES = st.one_of(st.just(math.nan), st.floats(allow_nan=False), st.sampled_from([0.0, -0.0, 1.0, 3.0]))


def _bits(value: float) -> bytes:
    return struct.pack("<d", value)


@given(st.lists(_VALUES, min_size=len(FEATURE_NAMES), max_size=len(FEATURE_NAMES)))
def test_a_packed_vector_reads_back_bit_for_bit(values: list[float]) -> None:
    vector = dict(zip(FEATURE_NAMES, values, strict=True))
    blob = vectors.pack(vector)
    assert blob is not None
    back = vectors.unpack(blob, len(FEATURE_NAMES))
    for name, value, got in zip(FEATURE_NAMES, values, back, strict=True):
        if math.isnan(value):
            assert math.isnan(got), name
        else:
            assert _bits(got) == _bits(value), name  # the very float, -0.0 and infinities included
    row = RiskDecision(features={}, feature_set=vectors.CURRENT, feature_values=blob)
    assert vectors.features_of(row) == {n: v for n, v in vector.items() if not math.isnan(v)}


@given(st.lists(_VALUES, min_size=len(FEATURE_NAMES), max_size=len(FEATURE_NAMES)))
def test_one_value_is_read_without_unpacking_the_rest(values: list[float]) -> None:
    row = RiskDecision(features={}, feature_set=vectors.CURRENT,
                       feature_values=vectors.pack(dict(zip(FEATURE_NAMES, values, strict=True))))
    for name, value in zip(FEATURE_NAMES, values, strict=True):
        got = vectors.value_of(None, row, name)
        assert math.isnan(got) if math.isnan(value) else _bits(got) == _bits(value), name
    assert math.isnan(vectors.value_of(None, row, "not_a_feature"))
    older = RiskDecision(features={"amount": 5, "card_count_1h": None})  # a row logged as JSON
    assert vectors.value_of(None, older, "amount") == 5.0
    assert math.isnan(vectors.value_of(None, older, "card_count_1h"))


def test_a_partial_vector_keeps_what_it_has_and_no_vector_is_none() -> None:
    blob = vectors.pack({"amount": 7.5, "not_a_feature": 1.0})
    assert blob is not None
    row = RiskDecision(features={}, feature_set=vectors.CURRENT, feature_values=blob)
    assert vectors.features_of(row) == {"amount": 7.5}
    assert vectors.pack({}) is None


def test_packed_is_a_quarter_of_the_json_it_replaces() -> None:
    # A card payment's vector: the payee, device and IP windows have no history (NaN).
    absent = ("payee", "device", "ip", "account")
    vector = {name: (math.nan if name.split("_")[0] in absent else 1234.5678 + i)
              for i, name in enumerate(FEATURE_NAMES)}
    json_size = len(orjson.dumps({k: v for k, v in vector.items() if not math.isnan(v)}))
    packed = vectors.pack(vector)
    assert packed is not None
    assert len(packed) * 3 < json_size, (len(packed), json_size)


def test_malformed_blobs_are_refused() -> None:
    blob = vectors.pack({"amount": 1.0})
    assert blob is not None
    with pytest.raises(ValueError, match="format"):
        vectors.unpack(b"\x02" + blob[1:], len(FEATURE_NAMES))
    with pytest.raises(ValueError, match="do not match"):
        vectors.unpack(blob[:-1], len(FEATURE_NAMES))


def _row(i: int, **values: Any) -> dict[str, Any]:
    from tests.risk.repository.test_log import _row as log_row

    return log_row(i, features={}, **values)


def test_no_row_commits_without_its_vocabulary_registered(db: Any) -> None:
    blob = vectors.pack({"amount": 1.0})
    with pytest.raises(RuntimeError), db.unit_of_work() as session:
        repository.insert_decisions(session, [_row(1, feature_set=vectors.CURRENT, feature_values=blob)])
        raise RuntimeError("rolled back")
    with db.session() as session:
        registered = session.get(RiskFeatureSet, vectors.CURRENT)
        # SQLite registers in the row's own transaction; PostgreSQL commits it on its own connection first.
        assert (registered is None) == db.is_sqlite
    with db.unit_of_work() as session:
        repository.insert_decisions(session, [_row(2, feature_set=vectors.CURRENT, feature_values=blob)])
        repository.insert_decisions(session, [_row(3, feature_set=vectors.CURRENT, feature_values=blob)])
    with db.session() as session:
        assert session.get(RiskFeatureSet, vectors.CURRENT).names == list(FEATURE_NAMES)


def test_writers_do_not_wait_on_each_other_s_first_registration(db: Any) -> None:
    """Two transactions log decisions, and the later one commits first (as PostgreSQL's concurrent
    writers do): the first registration must not make the second writer wait for the first."""
    blob = vectors.pack({"amount": 1.0})
    if db.is_sqlite:
        pytest.skip("SQLite has one writer at a time")
    with db.session() as first, db.session() as second:
        repository.insert_decisions(first, [_row(4, feature_set=vectors.CURRENT, feature_values=blob)])
        second.connection().exec_driver_sql("SET LOCAL lock_timeout = '2s'")
        repository.insert_decisions(second, [_row(5, feature_set=vectors.CURRENT, feature_values=blob)])
        second.commit()
        first.commit()
    with db.session() as session:
        assert session.get(RiskFeatureSet, vectors.CURRENT) is not None


def test_a_row_over_another_vocabulary_reads_back_by_its_own_names(db: Any, monkeypatch: Any) -> None:
    older = ("amount", "hour_of_day", "retired_feature")
    older_id = vectors.vocabulary_id(older)
    import numpy as np

    present = np.array([True, False, True])
    blob = b"\x01" + np.packbits(present).tobytes() + np.array([12.5, 4.0], "<f8").tobytes()
    with db.unit_of_work() as session:
        session.add(RiskFeatureSet(id=older_id, names=list(older)))
        repository.insert_decisions(session, [_row(4, feature_set=older_id, feature_values=blob),
                                              _row(5, feature_set="0123456789abcdef", feature_values=blob)])
    monkeypatch.setattr(vectors, "_VOCABULARIES", {vectors.CURRENT: FEATURE_NAMES})  # a fresh process
    with db.session() as session:
        row = session.scalars(select(RiskDecision).where(RiskDecision.id == "rskd_test0004")).one()
        assert repository.features_of(row) == {"amount": 12.5, "retired_feature": 4.0}
        full = repository.logged_features(row)
        assert full["amount"] == 12.5 and math.isnan(full["hour_of_day"])
        unknown = session.scalars(select(RiskDecision).where(RiskDecision.id == "rskd_test0005")).one()
        with pytest.raises(vectors.UnknownVocabulary):
            repository.features_of(unknown)
