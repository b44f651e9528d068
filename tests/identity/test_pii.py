"""Envelope encryption of personal data: a fresh data key per value, wrapped by the key-encryption key;
the field is authenticated data; tampering and key changes are detected; masks show only what staff need."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atrium.config import reset_settings_cache
from atrium.identity import pii


@given(st.text(max_size=200))
def test_any_text_round_trips(value: str) -> None:
    assert pii.unseal(pii.seal(value, context="customer.address"), context="customer.address") == value


def test_the_same_value_seals_differently_each_time() -> None:
    a, b = (
        pii.seal("13812345678", context="customer.phone"),
        pii.seal("13812345678", context="customer.phone"),
    )
    assert a != b and "13812345678" not in a
    assert a.split(".")[2] != b.split(".")[2], "each value has its own data key"


def test_a_value_sealed_for_one_field_does_not_open_as_another() -> None:
    token = pii.seal("110105194912310029", context="customer.id_number")
    with pytest.raises(pii.SealBroken):
        pii.unseal(token, context="customer.phone")


def test_a_tampered_ciphertext_is_detected() -> None:
    version, key_id, wrapped, nonce, ciphertext = pii.seal("王美", context="customer.legal_name").split(".")
    flipped = ("A" if ciphertext[0] != "A" else "B") + ciphertext[1:]
    with pytest.raises(pii.SealBroken):
        pii.unseal(".".join((version, key_id, wrapped, nonce, flipped)), context="customer.legal_name")


def test_another_key_encryption_key_cannot_open_it(monkeypatch: pytest.MonkeyPatch) -> None:
    token = pii.seal("mei@example.com", context="customer.email")
    monkeypatch.setenv("ATRIUM_SECURITY__PII_KEY", base64.b64encode(b"k" * 32).decode())
    reset_settings_cache()
    try:
        with pytest.raises(pii.SealBroken, match="another key"):
            pii.unseal(token, context="customer.email")
    finally:
        monkeypatch.delenv("ATRIUM_SECURITY__PII_KEY")
        reset_settings_cache()


def test_blind_indexes_are_stable_keyed_and_per_field() -> None:
    a = pii.blind_index("+8613812345678", context="customer.phone")
    assert a == pii.blind_index("+8613812345678", context="customer.phone")
    assert a != pii.blind_index("+8613812345678", context="notify.recipient")
    assert "13812345678" not in a and len(a) == 64


@pytest.mark.parametrize(
    ("mask", "value", "shown"),
    [
        (pii.mask_phone, "+8613812345678", "138****5678"),
        (pii.mask_phone, "13812345678", "138****5678"),
        (pii.mask_email, "mei.wang@example.com", "m***@example.com"),
        (pii.mask_id_number, "11010519491231002X", "110***********002X"),
        (pii.mask_name, "王美丽", "王**"),
        (pii.mask_name, "Jane Smith", "J. S***"),
        (pii.mask_address, "上海市梧桐路12号", "上海市梧桐路…"),
    ],
)
def test_masks(mask, value: str, shown: str) -> None:  # type: ignore[no-untyped-def]
    assert mask(value) == shown
