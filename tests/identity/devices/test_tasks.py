from __future__ import annotations

from datetime import timedelta

from atrium.identity import service as identity
from atrium.identity.devices import service
from atrium.identity.devices.tasks import purge_spent_nonces_job
from atrium.kit import clock
from tests.identity.devices.conftest import NOW
from tests.identity.devices.keys import SoftDevice, elements


def test_the_job_forgets_only_expired_nonces(db, frozen: clock.FrozenClock) -> None:
    soft = SoftDevice()
    with db.unit_of_work() as s:
        customer = identity.create_customer(s, username="mei", password="pw pw pw pw", display_name="王美")
        customer_id = customer.id
        device = service.register_device(s, customer_id=customer_id, public_key=soft.public_key, name="phone",
                                         user_agent="")
        for _ in range(2):
            e = elements(NOW)
            service.verify_transaction(s, customer_id=customer_id, device_id=device.id, elements=e,
                                       signature=soft.sign(e))
    assert purge_spent_nonces_job(db) == 0  # still inside their window
    frozen.set(NOW + timedelta(minutes=5, seconds=1))
    assert purge_spent_nonces_job(db) == 2
