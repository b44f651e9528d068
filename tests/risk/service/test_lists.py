"""Lists: hashed values, audited changes, expiry that never acts late, and allow pairs."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from atrium.kit import clock
from atrium.risk import service
from atrium.risk.errors import InvalidListEntry, ListEntryExists
from atrium.risk.models import RiskListAudit, RiskListEntry
from atrium.risk.schemas import ListEntryCreate
from tests.risk.service.factories import CHECKER, block, event, publish_rule


def test_personal_values_are_stored_hashed_and_every_change_is_audited(s) -> None:  # type: ignore[no-untyped-def]
    entry_id = block(s, "ip", "203.0.113.77", reason="botnet")
    row = s.get(RiskListEntry, entry_id)
    assert "203.0.113.77" not in json.dumps([row.value, row.display])
    assert row.display == "203.0.*.*" and len(row.value) == 32
    service.remove_entry(s, entry_id, "staff_2", "false positive")
    audit = s.scalars(select(RiskListAudit).order_by(RiskListAudit.at)).all()
    assert [(a.action, a.staff_id, a.reason) for a in audit] == [
        ("add", CHECKER, "botnet"), ("remove", "staff_2", "false positive")]
    assert "203.0.113.77" not in json.dumps([a.display for a in audit])
    assert [e.id for e in service.list_entries(s)] == []
    assert service.list_entries(s, include_removed=True)[0].removed_by == "staff_2"
    assert [a.action for a in service.list_audit(s, entry_id=entry_id)] == ["remove", "add"]


def test_the_same_value_twice_on_a_list_is_a_conflict(s) -> None:  # type: ignore[no-untyped-def]
    block(s, "device", "device-aaaa-1111")
    with pytest.raises(ListEntryExists):
        block(s, "device", " device-aaaa-1111 ")  # the same value, spelled with spaces
    block(s, "device", "device-aaaa-1111", list_kind="watch")  # another list is fine


def test_expired_entries_never_act(s, frozen) -> None:  # type: ignore[no-untyped-def]
    entry_id = block(s, "device", "device-aaaa-1111", expires_at=clock.now() + timedelta(hours=1))
    s.commit()
    assert service.screen(s, event()).outcome == "deny"
    frozen.set(clock.now() + timedelta(hours=1))  # the expiry instant: over
    assert service.screen(s, event()).outcome == "allow"
    assert service.get_entry(s, entry_id).active is False


def test_a_removed_entry_stops_acting_on_the_next_decision(s) -> None:  # type: ignore[no-untyped-def]
    entry_id = block(s, "card", "card_77")
    assert service.screen(s, event(channel="card", card_ref="card_77")).outcome == "deny"
    service.remove_entry(s, entry_id, CHECKER)
    assert service.screen(s, event(channel="card", card_ref="card_77")).outcome == "allow"


def test_an_allow_pair_lets_a_known_payer_and_payee_through(s) -> None:  # type: ignore[no-untyped-def]
    publish_rule(s, "amount > 100", "review")
    service.add_entry(s, ListEntryCreate(list_kind="allow", subject_kind="pair", value="cust_1",
                                         counterpart="6222 0000 1234 5678"), CHECKER)
    assert service.screen(s, event(amount_minor=50_000)).outcome == "allow"
    assert service.screen(s, event(amount_minor=50_000, customer_id="cust_2")).outcome == "review"


def test_an_entity_of_a_logged_decision_can_be_listed_without_its_clear_value(s) -> None:  # type: ignore[no-untyped-def]
    first = service.screen(s, event())
    entry = service.add_entry_for_decision(s, first.id, "payee", CHECKER, reason="mule")
    assert entry.display == "…5678"
    assert service.screen(s, event()).reason_codes[0] == "list.block.payee"
    with pytest.raises(InvalidListEntry):
        service.add_entry_for_decision(s, first.id, "merchant", CHECKER)  # the transfer had no merchant


def test_invalid_entries_are_refused(s) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidListEntry):
        block(s, "device", "d1", expires_at=clock.now() - timedelta(seconds=1))
    with pytest.raises(InvalidListEntry):
        service.add_entry(s, ListEntryCreate(list_kind="allow", subject_kind="pair", value="cust_1"), CHECKER)
