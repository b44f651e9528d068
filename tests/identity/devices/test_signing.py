"""The canonical form and the P-256 checks, without a database."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from atrium.identity.devices import signing
from atrium.identity.devices.errors import InvalidPublicKey, TamperedSignature
from tests.identity.devices.keys import SoftDevice, elements, iso, js_canonical

AT = datetime(2030, 5, 1, 9, 0, tzinfo=UTC)


def test_the_canonical_form_is_sorted_compact_utf8() -> None:
    e = {"time": "2030-05-01T09:00:00.000Z", "payee": "王美 \"Mei\"\n", "amount_minor": "600000",
         "currency": "CNY", "nonce": "abc"}
    expected = ('{"amount_minor":"600000","currency":"CNY","nonce":"abc","payee":"王美 \\"Mei\\"\\n",'
                '"time":"2030-05-01T09:00:00.000Z"}').encode()
    assert signing.canonical(e) == expected
    assert signing.canonical(e) == js_canonical(e).encode("utf-8")
    assert "王美".encode() in signing.canonical(e)  # raw UTF-8, not \\u escapes


@pytest.mark.parametrize("text", ["\x01\x1f\t\b\f\r", "€ 𝄞 emoji 😀", "back\\slash /", "\u2028\u2029\x7f"])
def test_the_python_form_matches_the_javascript_algorithm(text: str) -> None:
    e = elements(AT, payee=text, memo=text)
    assert signing.canonical(e) == js_canonical(e).encode("utf-8")


def test_a_soft_device_signature_verifies_and_any_change_breaks_it() -> None:
    device = SoftDevice()
    message = signing.canonical(elements(AT))
    signature = device.sign_bytes(message)
    assert len(base64.b64decode(signature)) == 64
    assert signing.verify(device.public_key, message, signature)
    assert not signing.verify(device.public_key, message.replace(b"600000", b"600001"), signature)
    assert not signing.verify(SoftDevice().public_key, message, signature)
    assert not signing.verify(device.public_key, message, "not base64!")
    assert not signing.verify(device.public_key, message, base64.b64encode(b"\x00" * 64).decode())
    assert not signing.verify(device.public_key, message, base64.b64encode(b"\x01" * 63).decode())


def test_only_p256_spki_keys_are_accepted() -> None:
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    for key in (p384, rsa_key):
        der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        with pytest.raises(InvalidPublicKey):
            signing.load_public_key(base64.b64encode(der).decode())
    for bad in ("", "%%%", base64.b64encode(b"junk").decode(), "A" * 500):
        with pytest.raises(InvalidPublicKey):
            signing.load_public_key(bad)


def test_elements_must_be_complete_flat_strings() -> None:
    good = elements(AT)
    assert signing.check_elements(good) == good
    for missing in signing.REQUIRED_ELEMENTS:
        with pytest.raises(TamperedSignature, match=missing):
            signing.check_elements({k: v for k, v in good.items() if k != missing})
    for bad in ({"Payee": "x"}, {"amount major": "x"}, {"memo": 5}, {"memo": "x" * 301}, {"memo": "\ud800"}):
        with pytest.raises(TamperedSignature):
            signing.check_elements(good | bad)  # type: ignore[operator]
    with pytest.raises(TamperedSignature):
        signing.check_elements(good | {f"e{i}": "x" for i in range(20)})


def test_signed_times_are_utc_iso8601() -> None:
    assert signing.parse_time(iso(AT)) == AT
    assert signing.parse_time("2030-05-01T09:00:00+00:00") == AT
    for bad in ("2030-05-01T09:00:00", "2030-05-01T17:00:00+08:00", "yesterday", ""):
        with pytest.raises(TamperedSignature):
            signing.parse_time(bad)


def test_sign_in_nonces_are_ours_and_expire() -> None:
    secret = "s" * 40
    nonce = signing.issue_nonce(secret, expires_at=AT + timedelta(minutes=2))
    assert signing.nonce_expiry(secret, nonce, now=AT) == AT + timedelta(minutes=2)
    assert signing.nonce_expiry(secret, nonce, now=AT + timedelta(minutes=2)) is None  # expired
    assert signing.nonce_expiry("t" * 40, nonce, now=AT) is None  # another server's
    version, expiry, rand, mac = nonce.split(".")
    forged = f"{version}.{int(expiry) + 3600}.{rand}.{mac}"
    assert signing.nonce_expiry(secret, forged, now=AT) is None  # a longer life cannot be written in
    for junk in ("", "a.b.c.d", nonce + "x", "x" * 300):
        assert signing.nonce_expiry(secret, junk, now=AT) is None
