"""Every ledger write is idempotent: same key + same request → the first result and no new rows;
same key + another request → IdempotencyConflict (409)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from atrium.kit import clock
from atrium.kit.errors import IdempotencyConflict
from atrium.ledger import service as ledger
from atrium.ledger.models import Hold, Journal, Leg
from atrium.ledger.service import LegSpec
from tests.ledger.factories import customer, deposit, hold, key


def counts(s: Session) -> tuple[int, int, int]:
    return tuple(s.scalar(select(func.count()).select_from(m)) or 0 for m in (Journal, Leg, Hold))  # type: ignore[return-value]


@pytest.fixture()
def pair(ls: Session) -> tuple[str, str]:
    alice, bob = customer(ls, name="alice"), customer(ls, name="bob")
    deposit(ls, alice.id, 10_000)
    return alice.id, bob.id


def transfer(s: Session, k: str, a: str, b: str, amount: int = 100, **kw: object):  # type: ignore[no-untyped-def]
    return ledger.post_transfer(s, idempotency_key=k, debit_account_id=a, credit_account_id=b,
                                amount_minor=amount, currency="CNY", kind=str(kw.pop("kind", "p2p")), **kw)  # type: ignore[arg-type]


def test_transfer_replay_returns_the_same_journal_and_writes_nothing(
    ls: Session, pair: tuple[str, str]
) -> None:
    a, b = pair
    k = key()
    first = transfer(ls, k, a, b, metadata={"memo": "rent"})
    before = counts(ls)
    again = transfer(ls, k, a, b, metadata={"memo": "rent"})
    assert again == first
    assert counts(ls) == before
    assert ledger.get_account(ls, a).booked_minor == 9_900


def test_replay_after_commit_in_a_new_session(db, pair: tuple[str, str], ls: Session) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    k = key()
    first = transfer(ls, k, a, b)
    ls.commit()
    with db.unit_of_work() as other:
        assert transfer(other, k, a, b).id == first.id


@pytest.mark.parametrize("change", [
    {"amount": 101}, {"kind": "other"}, {"description": "x"}, {"metadata": {"memo": "y"}}, {"swap": True},
])
def test_transfer_with_a_different_body_is_409(ls: Session, pair: tuple[str, str], change: dict) -> None:  # type: ignore[type-arg]
    a, b = pair
    k = key()
    transfer(ls, k, a, b)
    before = counts(ls)
    if change.pop("swap", False):
        a, b = b, a
    with pytest.raises(IdempotencyConflict) as err:
        transfer(ls, k, a, b, **change)
    assert err.value.status == 409
    assert counts(ls) == before


def test_a_key_is_one_request_across_operations(ls: Session, pair: tuple[str, str]) -> None:
    a, b = pair
    k = key()
    transfer(ls, k, a, b)
    with pytest.raises(IdempotencyConflict):
        ledger.place_hold(ls, idempotency_key=k, debit_account_id=a, credit_account_id=b, amount_minor=100,
                          currency="CNY", expires_at=clock.now() + timedelta(hours=1), kind="p2p")
    with pytest.raises(IdempotencyConflict):
        ledger.post_journal(ls, idempotency_key=k, kind="p2p", legs=[LegSpec(a, "debit", 100),
                                                                     LegSpec(b, "credit", 100)])


def test_journal_replay_and_conflict(ls: Session, pair: tuple[str, str]) -> None:
    a, b = pair
    k = key()
    legs = [LegSpec(a, "debit", 70), LegSpec(b, "credit", 70)]
    first = ledger.post_journal(ls, idempotency_key=k, legs=legs, kind="split")
    assert ledger.post_journal(ls, idempotency_key=k, legs=legs, kind="split").id == first.id
    with pytest.raises(IdempotencyConflict):
        ledger.post_journal(ls, idempotency_key=k, legs=[LegSpec(a, "debit", 71), LegSpec(b, "credit", 71)],
                            kind="split")


def test_hold_lifecycle_replays(ls: Session, pair: tuple[str, str]) -> None:
    a, b = pair
    k = key()
    expires = clock.now() + timedelta(hours=1)
    h = ledger.place_hold(ls, idempotency_key=k, debit_account_id=a, credit_account_id=b, amount_minor=500,
                          currency="CNY", expires_at=expires, kind="card")
    # A retry that recomputed "now + TTL" is still the same request.
    again = ledger.place_hold(
        ls, idempotency_key=k, debit_account_id=a, credit_account_id=b, amount_minor=500, currency="CNY",
        expires_at=expires + timedelta(seconds=3), kind="card",
    )
    assert again.id == h.id and again.expires_at == h.expires_at
    assert ledger.get_account(ls, a).debits_pending == 500
    with pytest.raises(IdempotencyConflict):
        ledger.place_hold(ls, idempotency_key=k, debit_account_id=a, credit_account_id=b, amount_minor=501,
                          currency="CNY", expires_at=expires, kind="card")
    pk = key("cap")
    posted = ledger.post_hold(ls, hold_id=h.id, idempotency_key=pk, amount_minor=200)
    before = counts(ls)
    assert ledger.post_hold(ls, hold_id=h.id, idempotency_key=pk, amount_minor=200) == posted
    assert counts(ls) == before
    with pytest.raises(IdempotencyConflict):
        ledger.post_hold(ls, hold_id=h.id, idempotency_key=pk, amount_minor=300)
    # Replaying the placement now shows the hold as it is: posted.
    assert ledger.place_hold(ls, idempotency_key=k, debit_account_id=a, credit_account_id=b, amount_minor=500,
                             currency="CNY", expires_at=expires, kind="card").status == "posted"


def test_void_replay_and_conflict(ls: Session, pair: tuple[str, str]) -> None:
    a, b = pair
    h1, h2 = hold(ls, a, b, 100), hold(ls, a, b, 200)
    vk = key("void")
    first = ledger.void_hold(ls, hold_id=h1.id, idempotency_key=vk)
    assert ledger.void_hold(ls, hold_id=h1.id, idempotency_key=vk) == first
    with pytest.raises(IdempotencyConflict):
        ledger.void_hold(ls, hold_id=h2.id, idempotency_key=vk)
    assert ledger.get_account(ls, a).debits_pending == 200


def test_reverse_replay_and_already_reversed(ls: Session, pair: tuple[str, str]) -> None:
    from atrium.ledger.errors import AlreadyReversed

    a, b = pair
    j = transfer(ls, key(), a, b)
    rk = key("rev")
    r = ledger.reverse(ls, journal_id=j.id, idempotency_key=rk, reason="mistake")
    assert ledger.reverse(ls, journal_id=j.id, idempotency_key=rk, reason="mistake").id == r.id
    with pytest.raises(IdempotencyConflict):
        ledger.reverse(ls, journal_id=j.id, idempotency_key=rk, reason="another reason")
    with pytest.raises(AlreadyReversed) as err:
        ledger.reverse(ls, journal_id=j.id, idempotency_key=key("rev"), reason="mistake")
    assert err.value.status == 409 and err.value.extra["reversal_id"] == r.id


def test_batch_respects_keys(ls: Session, pair: tuple[str, str]) -> None:
    from atrium.ledger.service import TransferRequest

    a, b = pair
    earlier = transfer(ls, "batch-earlier", a, b, 10)
    reqs = [
        TransferRequest("batch-earlier", a, b, 10, "CNY", "p2p"),  # replay of a committed one
        TransferRequest("batch-1", a, b, 20, "CNY", "p2p"),
        TransferRequest("batch-1", a, b, 20, "CNY", "p2p"),  # a duplicate inside the batch
        TransferRequest("batch-2", b, a, 5, "CNY", "p2p"),
    ]
    out = ledger.post_transfers(ls, reqs)
    assert out[0].id == earlier.id and out[1].id == out[2].id and out[3].id not in {out[0].id, out[1].id}
    assert ledger.get_account(ls, a).booked_minor == 10_000 - 10 - 20 + 5
    assert ledger.post_transfers(ls, reqs) == [ledger.get_journal(ls, j.id) for j in out]
    with pytest.raises(IdempotencyConflict):
        ledger.post_transfers(ls, [TransferRequest("batch-1", a, b, 21, "CNY", "p2p")])
    with pytest.raises(IdempotencyConflict):
        ledger.post_transfers(ls, [TransferRequest("batch-3", a, b, 1, "CNY", "p2p"),
                                   TransferRequest("batch-3", a, b, 2, "CNY", "p2p")])
