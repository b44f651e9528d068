"""The scheduled jobs: registered with the runtime, and together they carry a transfer to its end."""

from __future__ import annotations

from atrium.config import RailSettings
from atrium.payments import rail as rail_module
from atrium.payments.rail.simulated import SimulatedRail
from atrium.payments.schemas import ExternalDestination
from atrium.payments.service import transfer
from atrium.runtime import load_jobs


def test_the_rail_jobs_are_registered() -> None:
    names = {j.name for j in load_jobs()}
    assert {"payments.rail.submit", "payments.rail.poll"} <= names


def test_the_jobs_submit_and_settle_with_the_installed_rail(db, world, rail) -> None:
    with db.unit_of_work() as s:
        t = transfer(
            s, customer_id=world.alice, idempotency_key="job-key-01", from_account_id=world.alice_cny.id,
            to=ExternalDestination(type="external", bank_code="WLKB", account_number="6230000000009876",
                                   account_name="Han Meimei"),
            amount_minor=3_000, currency="CNY", channel="mobile",
        )
    jobs = {j.name: j for j in load_jobs()}
    assert jobs["payments.rail.submit"].run(db).submitted == 1  # type: ignore[attr-defined]
    assert jobs["payments.rail.poll"].run(db).settled == 1  # type: ignore[attr-defined]
    with db.session() as s:
        from atrium.payments.service import get_transfer

        assert get_transfer(s, customer_id=world.alice, transfer_id=t.id).status == "settled"


def test_the_process_rail_is_built_from_settings_once(db) -> None:
    rail_module.use_rail(db, None)
    try:
        first = rail_module.get_rail(db)
        assert isinstance(first, SimulatedRail) and isinstance(first.settings, RailSettings)
        assert rail_module.get_rail(db) is first  # its seeded sequence must not restart on every tick
    finally:
        rail_module.use_rail(db, None)
