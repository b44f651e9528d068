"""Small helpers for the inbox tests: customers with accounts and money, transfers, the relay and the
delivery job, and senders that fail on demand."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from atrium.accounts import service as accounts
from atrium.accounts.schemas import DepositAccountRead
from atrium.db.session import Database
from atrium.events.relay import relay_once
from atrium.identity import service as identity
from atrium.kit.ids import new_id
from atrium.messages.models import Message, Notification
from atrium.messages.tasks import DeliveryReport, deliver_pending
from atrium.notify.errors import PushDeliveryFailed, SmsDeliveryFailed
from atrium.notify.push import OutgoingPush, PushTarget
from atrium.notify.senders import OutgoingSms
from atrium.payments import service as payments
from atrium.payments.schemas import AtriumDestination, OwnDestination
from tests.auth_support import phone_for
from tests.web.mobile.factories import deposit


@dataclass
class Person:
    id: str
    username: str
    accounts: list[DepositAccountRead] = field(default_factory=list)
    phone: str | None = None


def person(
    db: Database, username: str, *, locale: str = "zh", balance_minor: int = 100_000_00, phone: bool = True,
    savings: bool = False,
) -> Person:
    number = phone_for(username) if phone else None
    with db.unit_of_work() as s:
        c = identity.create_customer(s, username=username, password="correct horse battery",
                                     display_name=username.title(), locale=locale, phone=number)
        opened = [accounts.open_account(s, customer_id=c.id, product="current", currency="CNY")]
        if savings:
            opened.append(accounts.open_account(s, customer_id=c.id, product="savings", currency="CNY"))
        cid = c.id
    if balance_minor:
        deposit(db, opened[0], balance_minor)
    return Person(cid, username, opened, number)


def pay(db: Database, payer: Person, payee: Person, amount_minor: int, *, key: str | None = None) -> str:
    """An internal transfer between two Atrium customers; returns its id."""
    with db.unit_of_work() as s:
        t = payments.transfer(
            s, customer_id=payer.id, idempotency_key=key or new_id("key"),
            from_account_id=payer.accounts[0].id,
            to=AtriumDestination(type="atrium", account_number=payee.accounts[0].number),
            amount_minor=amount_minor, currency="CNY", channel="mobile",
        )
    return t.id


def move_own(db: Database, who: Person, amount_minor: int) -> str:
    with db.unit_of_work() as s:
        t = payments.transfer(
            s, customer_id=who.id, idempotency_key=new_id("key"), from_account_id=who.accounts[0].id,
            to=OwnDestination(type="own", account_id=who.accounts[1].id), amount_minor=amount_minor,
            currency="CNY", channel="mobile",
        )
    return t.id


def relay(db: Database) -> int:
    return relay_once(db)


def deliver(db: Database) -> DeliveryReport:
    return deliver_pending(db, limit=500)


def inbox_of(db: Database, customer_id: str) -> list[Message]:
    with db.read_session() as s:
        return list(s.scalars(select(Message).where(Message.customer_id == customer_id).order_by(Message.id)))


def notifications_of(db: Database, customer_id: str) -> list[Notification]:
    with db.read_session() as s:
        return list(s.scalars(
            select(Notification).where(Notification.customer_id == customer_id).order_by(Notification.id)
        ))


class FlakySms:
    """An SMS sender that refuses the first `failures` hand-overs, then accepts (and remembers) them."""

    name = "flaky"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[OutgoingSms] = []
        self.calls = 0

    def send(self, message: OutgoingSms) -> str | None:
        self.calls += 1
        if self.calls <= self.failures:
            raise SmsDeliveryFailed("gateway down")
        self.sent.append(message)
        return f"gw-{self.calls}"


class FlakyPush:
    """A device-bound push sender failing the first `failures` sends."""

    name = "flaky-push"
    needs_device = True

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.sent: list[tuple[PushTarget | None, OutgoingPush]] = []
        self.calls = 0

    def send(self, target: PushTarget | None, push: OutgoingPush) -> str | None:
        self.calls += 1
        if self.calls <= self.failures:
            raise PushDeliveryFailed("push service down")
        self.sent.append((target, push))
        return None
