"""Every change to how a customer signs in or is protected is recorded with the change, in the customer's
security history (and shown on /security/history)."""

from __future__ import annotations

import pytest

from atrium.identity import audit, identities, password_policy, sessions
from atrium.identity import service as identity
from atrium.identity.devices import service as devices
from atrium.identity.models import SecurityChange
from atrium.identity.otp import totp
from atrium.identity.protection import signins
from tests.identity.devices.keys import SoftDevice

PASSWORD = "Correct-Horse-Battery-42"


def test_each_security_change_is_recorded(session) -> None:  # type: ignore[no-untyped-def]
    import pyotp

    mei = identity.create_customer(session, username="mei", password=PASSWORD, display_name="王美").id
    device = devices.register_device(
        session, customer_id=mei, public_key=SoftDevice().public_key, name="", user_agent=""
    )
    devices.rename(session, customer_id=mei, device_id=device.id, name="My phone")
    devices.revoke(session, customer_id=mei, device_id=device.id)
    secret, _ = totp.begin_enrolment(session, mei, "mei")
    totp.confirm_enrolment(session, mei, pyotp.TOTP(secret).now())
    totp.remove(session, mei)
    password_policy.change_password(session, mei, PASSWORD, "A-new-and-long-passphrase-77")
    _, p1 = sessions.open_session(session, customer_id=mei, amr=["pwd", "sms"])
    _, p2 = sessions.open_session(session, customer_id=mei, amr=["pwd", "sms"])
    signins.sign_out(session, mei, p1.sid or "")
    signins.sign_out_everywhere(session, mei, current_sid=p2.sid, keep_current=True)
    company = identities.add_identity(
        session, customer_id=mei, kind="company_operator", org_name="Co", org_ref="91310000MA1FL0003X"
    )
    identities.switch(session, p2, company.id)
    actions = [c.action for c in reversed(audit.recent(session, mei, limit=50))]
    assert actions == [
        "device.renamed",
        "device.removed",
        "totp.enrolled",
        "totp.removed",
        "password.changed",
        "session.ended",
        "sessions.ended",
        "identity.switched",
    ]
    assert all("Correct-Horse" not in c.detail for c in session.query(SecurityChange))


def test_an_unknown_action_is_a_programming_error(session) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="unknown security action"):
        audit.record(session, "cus_x", "password.peeked")  # type: ignore[arg-type]
