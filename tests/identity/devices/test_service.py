"""Device binding, sign-in proofs and transaction signatures against the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from atrium.identity.devices import service
from atrium.identity.devices.errors import DeviceNotFound, InvalidPublicKey, TamperedSignature
from atrium.kit import clock
from tests.identity.devices.conftest import NOW
from tests.identity.devices.keys import SoftDevice, elements, iso


def _bind(session: Session, customer_id: str, soft: SoftDevice, *, trusted: bool = True) -> str:
    device = service.register_device(
        session, customer_id=customer_id, public_key=soft.public_key, name="",
        user_agent="Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36",
    )
    if trusted:
        service.mark_trusted(session, device.id)
    return device.id


# --- binding and cooling-off -----------------------------------------------------------------------------


def test_a_new_device_cools_off_for_24_hours(session, customer_id, soft, frozen: clock.FrozenClock) -> None:
    device_id = _bind(session, customer_id, soft)
    [view] = service.list_devices(session, customer_id)
    assert view.id == device_id and device_id.startswith("dev_")
    assert view.name == "Chrome · Android"
    assert view.created_at == NOW and view.trusted_at == NOW
    assert view.cooling_off_until == NOW + timedelta(hours=24)
    assert view.trusted and view.cooling_off
    assert service.cooling_off(session, device_id)
    frozen.set(NOW + timedelta(hours=23, minutes=59))
    assert service.cooling_off(session, device_id)
    frozen.set(NOW + timedelta(hours=24))
    assert not service.cooling_off(session, device_id)
    assert not service.list_devices(session, customer_id)[0].cooling_off


def test_no_device_an_untrusted_or_a_revoked_one_counts_as_cooling_off(session, customer_id, frozen) -> None:
    assert service.cooling_off(session, None)
    assert service.cooling_off(session, "dev_UNKNOWN")
    untrusted = _bind(session, customer_id, SoftDevice(), trusted=False)
    revoked = _bind(session, customer_id, SoftDevice())
    service.revoke(session, customer_id=customer_id, device_id=revoked)
    frozen.set(NOW + timedelta(days=3))
    assert service.cooling_off(session, untrusted)
    assert service.cooling_off(session, revoked)


def test_binding_the_same_key_before_trust_returns_that_device(session, customer_id, soft, frozen) -> None:
    first = _bind(session, customer_id, soft, trusted=False)
    again = _bind(session, customer_id, soft, trusted=False)
    assert first == again
    service.mark_trusted(session, first)
    # Once trusted, an unproven request with the key does not get the trusted device back.
    assert _bind(session, customer_id, soft, trusted=False) != first


def test_only_p256_keys_bind(session, customer_id) -> None:
    with pytest.raises(InvalidPublicKey):
        service.register_device(session, customer_id=customer_id, public_key="AAAA", name="x", user_agent="")


def test_rename_and_revoke_only_own_devices(session, customer_id, other_customer_id, soft, frozen) -> None:
    device_id = _bind(session, customer_id, soft)
    renamed = service.rename(session, customer_id=customer_id, device_id=device_id, name="  我的  手机 ")
    assert renamed.name == "我的 手机"
    with pytest.raises(DeviceNotFound):
        service.rename(session, customer_id=other_customer_id, device_id=device_id, name="mine now")
    with pytest.raises(DeviceNotFound):
        service.revoke(session, customer_id=other_customer_id, device_id=device_id)
    revoked = service.revoke(session, customer_id=customer_id, device_id=device_id)
    assert revoked.revoked_at == NOW and not revoked.trusted
    assert service.list_devices(session, customer_id) == []
    assert len(service.list_devices(session, customer_id, include_revoked=True)) == 1
    with pytest.raises(DeviceNotFound):
        service.revoke(session, customer_id=customer_id, device_id=device_id)


# --- sign-in proofs --------------------------------------------------------------------------------------


def test_a_trusted_device_proves_itself_once_per_nonce(session, customer_id, soft, frozen) -> None:
    device_id = _bind(session, customer_id, soft)
    nonce = service.login_nonce()
    signature = soft.sign_bytes(nonce.encode())
    frozen.set(NOW + timedelta(seconds=30))
    proof = {"customer_id": customer_id, "device_id": device_id, "nonce": nonce, "signature": signature}
    proved = service.prove(session, **proof)
    assert proved is not None and proved.id == device_id
    assert proved.last_seen_at == NOW + timedelta(seconds=30)
    assert service.prove(session, **proof) is None  # the nonce is spent


def test_a_proof_fails_for_every_wrong_part(session, customer_id, other_customer_id, soft, frozen) -> None:
    device_id = _bind(session, customer_id, soft)
    untrusted_soft = SoftDevice()
    untrusted = _bind(session, customer_id, untrusted_soft, trusted=False)

    def prove(*, customer: str = customer_id, device: str = device_id, signer: SoftDevice = soft,
              nonce: str | None = None, signed: str | None = None) -> object:
        nonce = nonce or service.login_nonce()
        signature = signer.sign_bytes((signed or nonce).encode())
        return service.prove(session, customer_id=customer, device_id=device, nonce=nonce,
                             signature=signature)

    assert prove() is not None
    assert prove(customer=other_customer_id) is None  # someone else's device
    assert prove(signer=SoftDevice()) is None  # another key
    assert prove(signed="something else") is None
    assert prove(nonce="dn1.9999999999.made-up.mac") is None  # not a nonce of ours
    assert prove(device=untrusted, signer=untrusted_soft) is None  # bound but never trusted
    stale = service.login_nonce()
    frozen.set(NOW + timedelta(seconds=121))
    assert prove(nonce=stale) is None  # expired
    service.revoke(session, customer_id=customer_id, device_id=device_id)
    assert prove() is None


# --- transaction signatures ------------------------------------------------------------------------------


def test_a_signed_transaction_is_verified_and_kept(session, customer_id, soft, frozen) -> None:
    device_id = _bind(session, customer_id, soft)
    e = elements(NOW, payee_name="王美")
    kept = service.verify_transaction(
        session, customer_id=customer_id, device_id=device_id, elements=e, signature=soft.sign(e)
    )
    assert kept.id.startswith("tsg_") and kept.device_id == device_id and kept.elements == e
    assert kept.verified_at == NOW and kept.reference is None and len(kept.canonical_digest) == 64
    attached = service.attach(session, kept.id, "pay_123")
    assert attached.reference == "pay_123"
    assert service.attach(session, kept.id, "pay_123").reference == "pay_123"
    with pytest.raises(TamperedSignature):
        service.attach(session, kept.id, "pay_456")


@pytest.mark.parametrize("element", ["payee", "amount_minor", "currency", "time", "nonce", "payee_name"])
def test_every_tampered_element_is_refused(session, customer_id, soft, frozen, element: str) -> None:
    device_id = _bind(session, customer_id, soft)
    signed = elements(NOW, payee_name="王美")
    signature = soft.sign(signed)
    changed = dict(signed)
    changed[element] = iso(NOW + timedelta(seconds=1)) if element == "time" else signed[element] + "0"
    with pytest.raises(TamperedSignature, match="does not match"):
        service.verify_transaction(
            session, customer_id=customer_id, device_id=device_id, elements=changed, signature=signature
        )
    for extra_or_missing in (signed | {"memo": "x"}, {k: v for k, v in signed.items() if k != "payee_name"}):
        with pytest.raises(TamperedSignature):
            service.verify_transaction(
                session, customer_id=customer_id, device_id=device_id, elements=extra_or_missing,
                signature=signature,
            )


def test_another_device_or_customer_is_refused(session, customer_id, other_customer_id, soft, frozen) -> None:
    mine = _bind(session, customer_id, soft)
    other_soft = SoftDevice()
    theirs = _bind(session, other_customer_id, other_soft)
    e = elements(NOW)
    with pytest.raises(TamperedSignature, match="does not match"):  # my device id, another key's signature
        service.verify_transaction(session, customer_id=customer_id, device_id=mine, elements=e,
                                   signature=other_soft.sign(e))
    with pytest.raises(TamperedSignature, match="not made by one of your devices"):
        service.verify_transaction(session, customer_id=customer_id, device_id=theirs, elements=e,
                                   signature=other_soft.sign(e))
    with pytest.raises(TamperedSignature, match="not made by one of your devices"):
        service.verify_transaction(session, customer_id=customer_id, device_id="dev_NOPE", elements=e,
                                   signature=soft.sign(e))


def test_a_replayed_nonce_is_refused(session, customer_id, soft, frozen) -> None:
    device_id = _bind(session, customer_id, soft)
    e = elements(NOW)
    service.verify_transaction(session, customer_id=customer_id, device_id=device_id, elements=e,
                               signature=soft.sign(e))
    with pytest.raises(TamperedSignature, match="used already"):
        service.verify_transaction(session, customer_id=customer_id, device_id=device_id, elements=e,
                                   signature=soft.sign(e))
    again = e | {"amount_minor": "1"}  # the same nonce under other elements, freshly signed
    with pytest.raises(TamperedSignature, match="used already"):
        service.verify_transaction(session, customer_id=customer_id, device_id=device_id, elements=again,
                                   signature=soft.sign(again))


@pytest.mark.parametrize("offset_s, accepted", [(-301, False), (-300, True), (299, True), (301, False)])
def test_the_signed_time_must_be_within_five_minutes(
    session, customer_id, soft, frozen, offset_s: int, accepted: bool
) -> None:
    device_id = _bind(session, customer_id, soft)
    e = elements(NOW + timedelta(seconds=offset_s))  # NOW is whole milliseconds: the ISO text is exact

    def verify() -> object:
        return service.verify_transaction(session, customer_id=customer_id, device_id=device_id, elements=e,
                                          signature=soft.sign(e))

    if accepted:
        assert verify()
    else:
        with pytest.raises(TamperedSignature, match="too old or dated in the future"):
            verify()


def test_a_revoked_device_signs_nothing(session, customer_id, soft, frozen) -> None:
    device_id = _bind(session, customer_id, soft)
    service.revoke(session, customer_id=customer_id, device_id=device_id)
    e = elements(NOW)
    with pytest.raises(TamperedSignature, match="removed"):
        service.verify_transaction(session, customer_id=customer_id, device_id=device_id, elements=e,
                                   signature=soft.sign(e))


def test_spent_nonces_are_purged_after_expiry(session, customer_id, soft, frozen) -> None:
    device_id = _bind(session, customer_id, soft)
    e = elements(NOW)
    service.verify_transaction(session, customer_id=customer_id, device_id=device_id, elements=e,
                               signature=soft.sign(e))
    assert service.purge_spent_nonces(session) == 0
    assert service.purge_spent_nonces(session, now=NOW + timedelta(minutes=6)) == 1
