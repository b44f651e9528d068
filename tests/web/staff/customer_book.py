"""A customer with everything the 360 page shows — KYC details, a company identity, a bound device, a
failed sign-in from a known address, limits and switches she set, transfers in and out — and the values
that must never reach a page unrevealed."""

from __future__ import annotations

from dataclasses import dataclass

from atrium.db.session import Database
from atrium.limits import service as limits
from tests.staff.factories import Kyc, failed_sign_in, give_company, give_device, give_kyc
from tests.web.mobile.factories import Seeded, seed_customer
from tests.web.staff.factories import pay

SIGN_IN_IP = "203.0.113.45"


@dataclass(frozen=True)
class Book:
    mei: Seeded
    emma: Seeded
    kyc: Kyc
    transfer_id: str

    def secrets(self) -> list[str]:
        """What no page may show without a reveal: names, username, KYC values, full numbers, the memo, the
        sign-in address and the name Mei gave her phone."""
        k = self.kyc
        return [
            "王美丽",
            "Emma Watson",
            "mei.wang",
            "房租",
            SIGN_IN_IP,
            "王美丽的 iPhone",
            k.id_number,
            k.email,
            k.address,
            k.phone,
            k.phone.removeprefix("+86"),
            *(a.number for a in self.mei.accounts),
            *(a.number for a in self.emma.accounts),
        ]


def make_book(db: Database) -> Book:
    mei = seed_customer(db, username="mei.wang", display_name="王美丽")
    emma = seed_customer(db, username="emma.w", display_name="Emma Watson", savings=False)
    details = give_kyc(db, mei.customer_id)
    give_company(db, mei.customer_id)
    give_device(db, mei.customer_id)
    failed_sign_in(db, mei.customer_id, ip=SIGN_IN_IP)
    with db.unit_of_work() as s:
        limits.set_own_limit(
            s,
            customer_id=mei.customer_id,
            method="internal_transfer",
            per_transaction_minor=200_000,
            daily_minor=None,
        )
    transfer_id = pay(
        db,
        customer_id=mei.customer_id,
        from_account_id=mei.accounts[0].id,
        to_account_number=emma.accounts[0].number,
        amount_minor=88_800,
        memo="房租 for Emma Watson",
    )
    # After the payment: with night-time payments off, a payment between 00:00 and 06:00 China time is
    # refused, and the book is made at whatever hour the tests run.
    with db.unit_of_work() as s:
        limits.set_switches(s, customer_id=mei.customer_id, changes={"night_time": False})
    return Book(mei=mei, emma=emma, kyc=details, transfer_id=transfer_id)


def leaked(html: str, book: Book) -> list[str]:
    return [s for s in book.secrets() if s in html]
