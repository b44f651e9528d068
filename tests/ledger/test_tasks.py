"""The hold-expiry job: registered with the runtime every 60 s, and it expires in its own unit of work."""

from __future__ import annotations

from datetime import timedelta

from atrium.db.session import Database
from atrium.kit import clock
from atrium.ledger import service as ledger
from atrium.ledger import tasks
from atrium.runtime import load_jobs
from tests.ledger.factories import customer, deposit, hold


def test_the_job_is_registered_every_minute() -> None:
    job = next(j for j in load_jobs() if j.name == "ledger.expire_holds")
    assert job.interval_s == 60 and job.run is tasks.expire_holds_job


def test_the_job_expires_due_holds_in_batches(db: Database, frozen: clock.FrozenClock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(tasks, "BATCH", 2)  # 5 due holds → batches of 2, 2, 1
    with db.unit_of_work() as s:
        alice, shop = customer(s), customer(s, name="shop")
        deposit(s, alice.id, 1_000)
        for _ in range(5):
            hold(s, alice.id, shop.id, 100, ttl_s=60)
        hold(s, alice.id, shop.id, 100, ttl_s=3600)
    frozen.set(clock.now() + timedelta(seconds=61))
    assert tasks.expire_holds_job(db) == 5
    assert tasks.expire_holds_job(db) == 0
    with db.read_session() as r:
        assert ledger.get_account(r, alice.id).available_minor == 900
        assert ledger.check(r).ok
