"""The QR payload format and its cryptography, without a database."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atrium.payments.qr import signing

SECRET = "a test secret key that is long enough"


def _claims(**over: object) -> signing.Claims:
    base = {
        "v": 1,
        "m": "mer_A",
        "k": "qrk_A",
        "a": 1_250,
        "c": "CNY",
        "r": "order-1",
        "t": 1_700_000_000,
        "x": 1_700_000_900,
        "n": signing.new_nonce(),
    }
    return signing.Claims(**(base | over))


def _retamper(payload: str, **changes: object) -> str:
    """The same payload with claims changed and the original signature kept."""
    prefix, body, sig = payload.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims.update(changes)
    raw = json.dumps(claims, sort_keys=True, separators=(",", ":")).encode()
    return f"{prefix}.{base64.urlsafe_b64encode(raw).decode().rstrip('=')}.{sig}"


def test_a_signed_payload_round_trips_and_verifies() -> None:
    seed, public = signing.new_key_pair()
    claims = _claims()
    payload = signing.sign(claims, seed)
    assert payload.startswith("ATRQR1.") and payload.count(".") == 2 and len(payload) < 400
    parsed, signing_input, signature = signing.split(payload)
    assert parsed == claims
    assert signing.verify(signing.encode_public(public), signing_input, signature)


@pytest.mark.parametrize(
    "change", [{"a": 1}, {"a": None}, {"m": "mer_B"}, {"c": "USD"}, {"x": 1_800_000_000}, {"r": "order-2"}]
)
def test_any_changed_claim_breaks_the_signature(change) -> None:
    seed, public = signing.new_key_pair()
    tampered = _retamper(signing.sign(_claims(), seed), **change)
    claims, signing_input, signature = signing.split(tampered)
    assert not signing.verify(signing.encode_public(public), signing_input, signature)


def test_another_key_does_not_verify() -> None:
    seed, _ = signing.new_key_pair()
    _, other_public = signing.new_key_pair()
    _, signing_input, signature = signing.split(signing.sign(_claims(), seed))
    assert not signing.verify(signing.encode_public(other_public), signing_input, signature)
    assert not signing.verify("not base64 !", signing_input, signature)


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "hello",
        "ATRQR1",
        "ATRQR1..",
        "ATRQR2.e30.AAAA",
        "ATRQR1.e30.AAAA",
        "ATRQR1.!!!.AAAA",
        "ATRQR1.e30." + "A" * 86,
        "ATRQR1." + "A" * 2000 + ".AAAA",
        "ATRQR1.ＡＢ.CD",
        None,
        42,
    ],
)
def test_malformed_payloads_are_refused(payload) -> None:
    with pytest.raises(signing.MalformedPayload):
        signing.split(payload)


def test_claims_of_the_wrong_type_are_malformed() -> None:
    seed, _ = signing.new_key_pair()
    payload = signing.sign(_claims(), seed)
    for change in ({"a": "1250"}, {"a": True}, {"a": 0}, {"v": 2}, {"extra": 1}, {"c": "cny"}):
        with pytest.raises(signing.MalformedPayload):
            signing.split(_retamper(payload, **change))


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=300)
    | st.from_regex(r"ATRQR1\.[A-Za-z0-9_-]{0,80}\.[A-Za-z0-9_-]{0,100}", fullmatch=True)
)
def test_arbitrary_text_is_malformed_or_well_formed_never_an_error(text: str) -> None:
    try:
        claims, signing_input, signature = signing.split(text)
    except signing.MalformedPayload:
        return
    assert isinstance(claims, signing.Claims) and len(signature) == signing.SIGNATURE_BYTES
    assert signing_input.startswith(b"ATRQR1.")


def test_sealed_seeds_open_only_with_the_same_secret_and_row() -> None:
    seed, _ = signing.new_key_pair()
    key = signing.wrapping_key(SECRET)
    sealed = signing.seal_seed(seed, wrap_key=key, key_id="qrk_1", merchant_id="mer_1")
    assert seed not in sealed
    assert signing.open_seed(sealed, wrap_key=key, key_id="qrk_1", merchant_id="mer_1") == seed
    for kwargs in (
        {"wrap_key": signing.wrapping_key(SECRET + "!"), "key_id": "qrk_1", "merchant_id": "mer_1"},
        {"wrap_key": key, "key_id": "qrk_2", "merchant_id": "mer_1"},
        {"wrap_key": key, "key_id": "qrk_1", "merchant_id": "mer_2"},
    ):
        with pytest.raises(signing.SealBroken):
            signing.open_seed(sealed, **kwargs)
    with pytest.raises(signing.SealBroken):
        signing.open_seed(
            sealed[:-1] + bytes([sealed[-1] ^ 1]), wrap_key=key, key_id="qrk_1", merchant_id="mer_1"
        )
