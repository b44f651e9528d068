"""Entity keys: keyed hashes for personal values (stable, normalised, unguessable without the key)."""

from __future__ import annotations

import pytest

from atrium.risk.service import entities


def test_personal_values_hash_stably_per_kind_and_spelling() -> None:
    key = entities.entity_key("ip", "10.1.2.3")
    assert key == entities.entity_key("ip", " 10.1.2.3 ") and len(key) == 32
    assert entities.entity_key("ip", "::ffff:0:1") == entities.entity_key("ip", "::FFFF:0:0001")
    assert entities.entity_key("device", "10.1.2.3") != key  # a per-kind context
    spaced = entities.entity_key("payee", "6222 0000 1234 5678")
    assert spaced == entities.entity_key("payee", "6222000012345678")
    assert entities.entity_key("card", "card_1") == "card_1"  # the bank's own ids stay as they are


@pytest.mark.parametrize(("kind", "raw", "shown"), [
    ("ip", "203.0.113.9", "203.0.*.*"),
    ("ip", "2001:db8::1", "2001:0db8:*"),
    ("ip", "not an ip", "*"),
    ("payee", "6222000012345678", "…5678"),
    ("device", "ab", "…"),
])
def test_masks_show_little(kind: str, raw: str, shown: str) -> None:
    assert entities.mask(kind, raw) == shown


def test_a_pair_is_the_payer_and_the_hashed_payee() -> None:
    value, display = entities.list_value("pair", "cust_1", "6222000012345678")
    assert value == f"cust_1|{entities.entity_key('payee', '6222000012345678')}"
    assert display == "cust_1 → …5678"
    with pytest.raises(ValueError):
        entities.list_value("pair", "cust_1")
