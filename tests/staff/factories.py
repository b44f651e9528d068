"""Small factories for the staff domain's tests, through the domain services only (and identity's own
modules where a customer's KYC, devices and sign-ins are set up as registration and sign-in would)."""

from __future__ import annotations

from dataclasses import dataclass

from atrium.accounts import service as accounts
from atrium.db.session import Database
from atrium.identity import identities, kyc, login
from atrium.identity import service as identity
from atrium.identity.devices import service as devices
from tests.identity.devices.keys import SoftDevice


@dataclass(frozen=True)
class Person:
    id: str
    username: str
    display_name: str


@dataclass(frozen=True)
class Kyc:
    legal_name: str = "王美丽"
    id_number: str = "11010519491231002X"
    email: str = "meili.wang@example.com"
    address: str = "上海市梧桐路88号1201室"
    phone: str = "+8613912345678"


def customer(db: Database, username: str, display_name: str, *, account: bool = True) -> Person:
    with db.unit_of_work() as s:
        row = identity.create_customer(
            s, username=username, password="pw for tests 1", display_name=display_name
        )
        if account:
            accounts.open_account(s, customer_id=row.id, product="current", currency="CNY")
        return Person(row.id, username, display_name)


def staff(db: Database, role: str = "operator", username: str = "op") -> Person:
    with db.unit_of_work() as s:
        row = identity.create_staff(
            s, username=username, password="pw for tests 1", display_name="Op", role=role
        )
        return Person(row.id, username, "Op")


def give_kyc(db: Database, customer_id: str, details: Kyc = Kyc()) -> Kyc:
    """Seal KYC details onto the customer, validated as registration validates them."""
    data, errors = kyc.validate(
        legal_name=details.legal_name, id_number=details.id_number, email=details.email,
        address=details.address, phone=details.phone,
    )
    assert data is not None, errors
    with db.unit_of_work() as s:
        row = identity.get_customer(s, customer_id)
        assert row is not None
        kyc.write(row, data)
    return details


def give_company(db: Database, customer_id: str, *, kind: str = "company_operator") -> None:
    with db.unit_of_work() as s:
        identities.add_identity(
            s, customer_id=customer_id, kind=kind, org_name="上海青禾贸易有限公司",
            org_ref="91310000MA1FL0001X" if kind == "company_operator" else "MCH-0001", role="finance",
        )


IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1"


def give_device(db: Database, customer_id: str, *, name: str = "王美丽的 iPhone") -> str:
    with db.unit_of_work() as s:
        return devices.register_device(
            s, customer_id=customer_id, public_key=SoftDevice().public_key, name=name, user_agent=IPHONE
        ).id


def failed_sign_in(db: Database, customer_id: str, *, ip: str = "203.0.113.45") -> None:
    """A wrong password from `ip`, as the sign-in flow records it (login history and lockout count)."""
    with db.unit_of_work() as s:
        login.record_failure(
            s, customer_id=customer_id, method="pwd", client=login.Client(ip=ip, user_agent=IPHONE)
        )
