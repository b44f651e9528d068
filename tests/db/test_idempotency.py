"""atrium.db.idempotency: the same key and body answer once; another body under the key is a 409; the
key lives and dies with the write's transaction; a concurrent duplicate is a 409, never a 500 or a
second write."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from atrium.db.idempotency import (
    IdempotencyKeyInFlight,
    IdempotencyRecord,
    StoredResponse,
    check_key,
    lookup,
    store,
)
from atrium.db.session import Database
from atrium.kit.errors import IdempotencyConflict, ValidationFailed

SCOPE = "customer:cus_1:transfers"
BODY = {"from": "acc_1", "to": "acc_2", "amount_minor": 1250, "currency": "CNY"}


@pytest.mark.parametrize(
    "key", ["abcdefgh", "k" * 100, "2f1c6a0e-6f0b-4c1e-9d7e-1f5d2c3b4a59", "key with space"]
)
def test_check_key_accepts(key: str) -> None:
    assert check_key(key) == key


@pytest.mark.parametrize("key", ["", "short", "k" * 101, "tab\there!", "new\nline-key", "nul\x00nul-key"])
def test_check_key_refuses(key: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        check_key(key)
    assert info.value.status == 422


def test_unknown_key_is_none(db: Database) -> None:
    with db.session() as s:
        assert lookup(s, SCOPE, "never-used-key", BODY) is None


def test_same_key_same_body_returns_the_first_response(db: Database) -> None:
    with db.unit_of_work() as s:
        assert lookup(s, SCOPE, "key-00000001", BODY) is None
        store(s, SCOPE, "key-00000001", BODY, 201, {"id": "trf_1", "status": "completed"})
    with db.session() as s:
        # The same body with its keys in another order is the same request.
        again = lookup(s, SCOPE, "key-00000001", dict(reversed(list(BODY.items()))))
    assert again == StoredResponse(201, {"id": "trf_1", "status": "completed"})


def test_same_key_other_body_is_a_conflict(db: Database) -> None:
    with db.unit_of_work() as s:
        store(s, SCOPE, "key-00000002", BODY, 201, {"id": "trf_1"})
    with db.session() as s, pytest.raises(IdempotencyConflict) as info:
        lookup(s, SCOPE, "key-00000002", {**BODY, "amount_minor": 1251})
    assert info.value.status == 409
    assert info.value.extra == {"idempotency_key": "key-00000002"}


def test_keys_are_scoped(db: Database) -> None:
    with db.unit_of_work() as s:
        store(s, SCOPE, "key-00000003", BODY, 201, {"id": "trf_1"})
    with db.session() as s:
        assert lookup(s, "customer:cus_2:transfers", "key-00000003", BODY) is None


def test_a_rolled_back_write_does_not_burn_the_key(db: Database) -> None:
    with pytest.raises(RuntimeError), db.unit_of_work() as s:
        store(s, SCOPE, "key-00000004", BODY, 201, {"id": "trf_1"})
        raise RuntimeError("the write failed after the key was stored")
    with db.unit_of_work() as s:
        assert lookup(s, SCOPE, "key-00000004", BODY) is None
        store(s, SCOPE, "key-00000004", BODY, 201, {"id": "trf_2"})
    with db.session() as s:
        assert lookup(s, SCOPE, "key-00000004", BODY) == StoredResponse(201, {"id": "trf_2"})


def test_storing_an_answered_key_again_is_a_409(db: Database) -> None:
    """Two requests that both looked up before either stored: the later store must not become a 500."""
    with db.unit_of_work() as s:
        store(s, SCOPE, "key-00000005", BODY, 201, {"id": "trf_1"})
    with pytest.raises(IdempotencyKeyInFlight) as info, db.unit_of_work() as s:
        store(s, SCOPE, "key-00000005", BODY, 201, {"id": "trf_2"})
    assert info.value.status == 409
    with db.session() as s:
        rows = s.scalars(select(IdempotencyRecord).where(IdempotencyRecord.scope == SCOPE)).all()
    assert [r.response for r in rows] == [{"id": "trf_1"}]


def test_concurrent_duplicates_write_once(db: Database) -> None:
    """The second request waits on the first one's key (row lock on PostgreSQL, the write lock on SQLite),
    then gets a 409 and its whole transaction — the money write with it — rolls back."""
    first_stored = threading.Event()
    outcome: dict[str, object] = {}

    def second() -> None:
        first_stored.wait(5)
        try:
            with db.unit_of_work() as s:
                s.add(IdempotencyRecord(scope="probe", key="second-write", request_hash="0", status_code=200,
                                        response={}))  # stands for the request's money write
                store(s, SCOPE, "key-00000006", BODY, 201, {"id": "trf_2"})
            outcome["second"] = "committed"
        except IdempotencyKeyInFlight:
            outcome["second"] = "409"

    t = threading.Thread(target=second)
    t.start()
    with db.unit_of_work() as s:
        store(s, SCOPE, "key-00000006", BODY, 201, {"id": "trf_1"})
        first_stored.set()
        t.join(0.3)  # the second request is now blocked behind us
        assert t.is_alive()
    t.join(30)
    assert outcome == {"second": "409"}
    with db.session() as s:
        assert lookup(s, SCOPE, "key-00000006", BODY) == StoredResponse(201, {"id": "trf_1"})
        assert s.get(IdempotencyRecord, ("probe", "second-write")) is None


def test_store_does_not_mask_the_callers_own_integrity_errors(db: Database) -> None:
    from sqlalchemy.exc import IntegrityError

    with db.unit_of_work() as s:
        s.add(IdempotencyRecord(scope="probe", key="dup", request_hash="0", status_code=200, response={}))
    with pytest.raises(IntegrityError), db.unit_of_work() as s:
        s.add(IdempotencyRecord(scope="probe", key="dup", request_hash="0", status_code=200, response={}))
        store(s, SCOPE, "key-00000007", BODY, 201, {})
