"""The engine configuration cache: one stamp query per decision, or none within the TTL, and a process
always sees its own changes."""

from __future__ import annotations

from atrium.risk import service
from atrium.risk.service import setup
from tests.risk.service.factories import block, event


def test_the_configuration_is_cached_per_revision(s) -> None:  # type: ignore[no-untyped-def]
    first = setup.current(s)
    assert setup.current(s) is first
    block(s, "card", "card_1")
    second = setup.current(s)
    assert second is not first and len(second.lists) == 1


def test_within_the_ttl_no_query_is_made_but_own_changes_show(s, risk_settings) -> None:  # type: ignore[no-untyped-def]
    risk_settings(revision_ttl_ms=60_000)
    assert service.screen(s, event(channel="card", card_ref="card_1")).outcome == "allow"
    block(s, "card", "card_1")  # this process's change: its TTL is forgotten at once
    assert service.screen(s, event(channel="card", card_ref="card_1")).outcome == "deny"


def test_policy_overrides_apply_field_by_field(risk_settings) -> None:  # type: ignore[no-untyped-def]
    risk_settings(policies={"card": {"timeout_ms": 15}})
    card = setup.policies()["card"]
    assert card.timeout_ms == 15 and card.on_timeout == "allow"  # the rest stays the default


def test_a_starting_process_preloads_and_shrugs_off_a_database_not_migrated_yet(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import sys

    from atrium.db.session import Database

    setup.clear()
    setup.preload_at_start(db)
    assert "lightgbm" in sys.modules  # imported before any decision waits for it
    empty = Database(f"sqlite:///{tmp_path / 'empty.db'}")  # no tables: `atrium migrate` has not run
    try:
        setup.preload_at_start(empty)  # logged (risk_preload_failed); the process starts anyway
    finally:
        empty.dispose()
