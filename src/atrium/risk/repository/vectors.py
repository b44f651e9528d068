"""The decision log's feature vectors, packed.

A decision logs the whole vector the engine saw (191 features), so the log is also the model's training set
and the analyst's evidence. As a JSON object of the features with a value it took ~2.7 KB a row, the most of
a row by far: names repeated in every row, numbers as text, and on SQLite a page written to the
write-ahead log for each row or so. Packed, it takes ~0.7 KB:

    byte 0          format (1)
    bytes 1..k      a bit per name of the vocabulary, in its order: 1 = the feature has a value
                    (numpy's packbits, most significant bit first; k = ceil(len(names) / 8))
    then            the values of the set bits, IEEE 754 float64, little-endian, in vocabulary order

A missing feature (NaN: no history of that kind) costs one bit, and a value is exactly the float the engine
scored, so a model trained on the log sees what the real-time path saw.

`feature_set` names the vocabulary: the first 16 hex digits of the SHA-256 of its names joined by newlines.
The names live in `risk_feature_sets`, registered in the same transaction as the rows written over them
(`register`), so every committed row's vocabulary can be read back, whatever the code's vocabulary is by then.
"""

from __future__ import annotations

import hashlib
import math
import operator
import struct
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from atrium.db.engine import json_text
from atrium.risk.domain.features.names import FEATURE_NAMES
from atrium.risk.models import RiskDecision, RiskFeatureSet

FORMAT = 1


def vocabulary_id(names: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]


CURRENT = vocabulary_id(FEATURE_NAMES)
_VALUES_OF = operator.itemgetter(*FEATURE_NAMES)
_VOCABULARIES: dict[str, tuple[str, ...]] = {CURRENT: FEATURE_NAMES}  # id → names, as read (never change)


class UnknownVocabulary(LookupError):
    """A packed vector whose vocabulary is neither this code's nor registered in the database."""


def pack(features: Mapping[str, float]) -> bytes | None:
    """The engine's vector over this code's vocabulary, packed; None for no vector (the engine failed). A
    name outside the vocabulary is not kept (the vocabulary is the engine's whole output)."""
    if not features:
        return None
    try:
        values = _VALUES_OF(features)
    except KeyError:  # a partial vector (a test's, or a hand-made one): the absent ones are missing
        values = tuple(features.get(name, math.nan) for name in FEATURE_NAMES)
    vector = np.array(values, dtype="<f8")
    present = ~np.isnan(vector)
    return bytes((FORMAT,)) + np.packbits(present).tobytes() + vector[present].tobytes()


def unpack(blob: bytes, size: int) -> np.ndarray:
    """A packed vector over a vocabulary of `size` names: float64, NaN where the feature had no value."""
    if not blob or blob[0] != FORMAT:
        raise ValueError(f"not a packed feature vector of format {FORMAT}")
    k = (size + 7) // 8
    present = np.unpackbits(np.frombuffer(blob, np.uint8, k, offset=1), count=size).astype(bool)
    if len(blob) != 1 + k + 8 * int(present.sum()):
        raise ValueError("a packed feature vector's values do not match its bits")
    values = np.frombuffer(blob, "<f8", offset=1 + k)
    vector = np.full(size, math.nan)
    vector[present] = values
    return vector


# SQLite runs it once per batch of decisions: a driver-level statement (a compiled Core INSERT took ~220 µs).
_REGISTER = {
    "postgresql": "INSERT INTO risk_feature_sets (id, names) VALUES (%s, CAST(%s AS JSON))"
                  " ON CONFLICT DO NOTHING",
    "sqlite": "INSERT INTO risk_feature_sets (id, names) VALUES (?, ?) ON CONFLICT DO NOTHING",
}
_CURRENT_NAMES = json_text(list(FEATURE_NAMES))


_REGISTERED: set[str] = set()  # PostgreSQL databases (by URL) where this code's vocabulary is committed


def register(session: Session) -> None:
    """Make this code's vocabulary readable from the database before a row written over it commits.

    SQLite: in the caller's transaction (which holds the only write lock, so nobody waits on it), a no-op
    INSERT once the row is there. PostgreSQL: once per process and database, committed on a connection
    of its own — inside the caller's transaction, a first registration not yet committed would make every
    other writer's INSERT wait for that transaction to end."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.exec_driver_sql(_REGISTER[connection.dialect.name], (CURRENT, _CURRENT_NAMES))
        return
    key = connection.engine.url.render_as_string()
    if key not in _REGISTERED:
        with connection.engine.begin() as own:
            own.exec_driver_sql(_REGISTER["postgresql"], (CURRENT, _CURRENT_NAMES))
        _REGISTERED.add(key)


def forget_registrations() -> None:
    """For tests that empty the tables between tests."""
    _REGISTERED.clear()


def vocabulary(vocabulary_id: str, session: Session | None) -> tuple[str, ...]:
    names = _VOCABULARIES.get(vocabulary_id)
    if names is None:
        found = session.scalar(select(RiskFeatureSet.names).where(RiskFeatureSet.id == vocabulary_id)) \
            if session is not None else None
        if found is None:
            raise UnknownVocabulary(f"feature vocabulary {vocabulary_id} is not registered")
        names = _VOCABULARIES[vocabulary_id] = tuple(found)
    return names


def value_of(session: Session | None, row: Any, name: str) -> float:
    """One feature of a logged decision (`row`: a RiskDecision or a row with `feature_set`,
    `feature_values` and `features`), NaN if it had none: without unpacking the rest (the feature state
    reads one per warmed event)."""
    blob = row.feature_values
    if blob is None:
        value = _number((row.features or {}).get(name))
        return math.nan if value is None else value
    if blob[0] != FORMAT:
        raise ValueError(f"not a packed feature vector of format {FORMAT}")
    positions = _positions(row.feature_set, session)
    index = positions.get(name)
    if index is None:
        return math.nan
    byte, bit = divmod(index, 8)
    mask = blob[1 + byte]
    if not (mask >> (7 - bit)) & 1:
        return math.nan
    before = int.from_bytes(blob[1:1 + byte], "big").bit_count() + (mask >> (8 - bit)).bit_count()
    k = (len(positions) + 7) // 8
    return float(struct.unpack_from("<d", blob, 1 + k + 8 * before)[0])


_POSITIONS: dict[str, dict[str, int]] = {}


def _positions(vocabulary_id: str, session: Session | None) -> dict[str, int]:
    positions = _POSITIONS.get(vocabulary_id)
    if positions is None:
        names = vocabulary(vocabulary_id, session)
        positions = _POSITIONS[vocabulary_id] = {name: i for i, name in enumerate(names)}
    return positions


def has_features(row: RiskDecision) -> bool:
    """Whether the engine gave this decision a feature vector (it did not if it failed or timed out)."""
    return row.feature_values is not None or bool(row.features)


def features_of(row: RiskDecision | Any) -> dict[str, float]:
    """The features of a logged decision that had a value, by name (empty: none, the engine failed). Reads
    a packed vector over its own vocabulary (looked up through the row's session if it is not this code's)
    or, for rows logged before vectors were packed, the JSON object."""
    blob = row.feature_values
    if blob is None:  # JSON has no NaN or infinity: a missing feature is null or absent
        return {name: number for name, value in (row.features or {}).items()
                if (number := _number(value)) is not None}
    names = vocabulary(row.feature_set, object_session(row))
    vector = unpack(blob, len(names))
    return {names[i]: float(vector[i]) for i in np.flatnonzero(~np.isnan(vector))}


def _number(value: object) -> float | None:
    """A JSON-logged feature value as a float (None: null, or not a number)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None
