"""Concurrent requests: a duplicate arriving at the same moment never pays twice, and concurrent payments
from one account never overdraw it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from atrium.payments.models import Transfer
from tests.payments import factories as f
from tests.payments.test_api import auth, key_header, names, own_body  # noqa: F401 - fixtures used by name


def _together(n: int, call):  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(n)

    def run(i: int):  # type: ignore[no-untyped-def]
        barrier.wait()
        return call(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def test_simultaneous_duplicates_pay_once(client, db, world, auth) -> None:  # noqa: F811
    headers = key_header(auth["alice"], "simultaneous-key-1")
    body = own_body(world, 5_000) | {"to": {"type": "atrium", "account_number": world.bob_cny.number}}
    responses = _together(4, lambda i: client.post("/api/v1/transfers", json=body, headers=headers))
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Transfer)) == 1
        assert f.balance(s, world.bob_cny.id)[0] == 5_000
        assert f.balance(s, world.alice_cny.id)[0] == 95_000
    assert len(f.events(db, "TransferCompleted")) == 1
    assert f.ledger_ok(db)


def test_concurrent_payments_never_overdraw(client, db, world, auth) -> None:  # noqa: F811
    body = own_body(world, 20_000) | {"to": {"type": "atrium", "account_number": world.bob_cny.number}}

    def pay(i: int):  # type: ignore[no-untyped-def]
        return client.post("/api/v1/transfers", json=body, headers=key_header(auth["alice"], f"drain-{i:04}"))

    responses = _together(8, pay)
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] * 5 + [422] * 3, [r.text for r in responses]
    assert all(r.json()["type"].endswith("/insufficient-funds") for r in responses if r.status_code == 422)
    with db.session() as s:
        assert f.balance(s, world.alice_cny.id) == (0, 0)
        assert f.balance(s, world.bob_cny.id)[0] == 100_000
    assert f.ledger_ok(db)
