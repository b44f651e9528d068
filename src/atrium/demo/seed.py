"""Build the demo bank: staff, merchants, 2,000 customers with accounts and six months of history."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import groupby

from sqlalchemy.orm import Session

from atrium import bootstrap
from atrium.accounts import service as accounts
from atrium.db.session import Database
from atrium.demo import identities as demo_identities
from atrium.demo import risk as demo_risk
from atrium.demo.history import Movement, build_history
from atrium.demo.merchants import MERCHANTS
from atrium.demo.people import Person, make_person
from atrium.identity import service as identity
from atrium.kit import clock
from atrium.ledger import service as ledger
from atrium.ledger.schemas import TransferRequest

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - the demo bank's published password
STAFF_PASSWORD = "staff-pass-2026"  # noqa: S105
STAFF = [
    ("admin", "系统管理员 Admin", "administrator"),
    ("operator", "运营 Olivia Operator", "operator"),
    ("operator2", "运营 Oscar Checker", "operator"),
    ("manager", "客户经理 Max Manager", "account_manager"),
    ("analyst", "风控 Rita Analyst", "risk_analyst"),
    ("compliance", "合规 Carl Compliance", "compliance_officer"),
]
# The two people a visitor signs in as: index 0 (Chinese) and index 1 (English).
FEATURED = [("demo", "李娜", "zh"), ("demo.en", "Emma Wang", "en")]


@dataclass
class SeedReport:
    customers: int = 0
    accounts: int = 0
    merchants: int = 0
    movements: int = 0
    staff: int = 0
    risk_rules: int = 0
    logins: list[tuple[str, str, str]] = field(default_factory=list)


Progress = Callable[[str, int, int], None]  # (stage, done, total)


def _people(n: int, seed: int) -> list[Person]:
    rng = random.Random(seed)
    people = [make_person(rng, i) for i in range(n)]
    for i, (username, name, locale) in enumerate(FEATURED[:n]):
        p = people[i]
        people[i] = Person(
            index=i, username=username, display_name=name, city="上海", employer=p.employer,
            salary_minor=max(p.salary_minor, 1_800_000), rent_minor=p.rent_minor or 450_000,
            spend_level=1.1, has_savings=True, has_usd=True, locale=locale,
        )
    return people


def is_seeded(db: Database) -> bool:
    with db.read_session() as s:
        return identity.count_customers(s) > 0


def seed(
    db: Database, *, customers: int = 2_000, months: int = 6, seed_value: int = 7,
    progress: Progress | None = None, today: date | None = None,
) -> SeedReport:
    """Build the demo bank into an empty database. Deterministic for a given seed and day."""
    report = SeedReport()
    tick = progress or (lambda stage, done, total: None)
    end = today or datetime.now(UTC).date()
    start = end - timedelta(days=round(months * 30.4))
    people = _people(customers, seed_value)
    start_at = datetime.combine(start - timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    previous = clock.use(clock.FrozenClock(start_at))
    try:
        with db.unit_of_work() as s:
            report.staff = _staff(s)
            bootstrap.reference_data(s)  # default limits, sign-in clients, the bank's registered channels
            bank = {
                ccy: ledger.get_or_create_internal(
                    s, code=f"bank:settlement:{ccy}", name=f"Settlement (nostro) {ccy}", type="asset",
                    currency=ccy,
                ).id
                for ccy in ("CNY", "USD")
            }
            merchant_accounts = _merchants(s)
            report.merchants = len(merchant_accounts)
        refs: dict[tuple, str] = {("bank",): bank["CNY"], ("bank", "USD"): bank["USD"]}
        refs.update({("mer", name): acc for name, acc in merchant_accounts.items()})
        customer_password = identity.hash_password(DEMO_PASSWORD)
        for chunk in _chunks(people, 200):
            with db.unit_of_work() as s:
                for p in chunk:
                    report.accounts += _open_customer(s, p, customer_password, refs)
            report.customers += len(chunk)
            tick("customers", report.customers, len(people))
        # History runs to the end of yesterday; today belongs to the featured customers' live transfers.
        moves = build_history(people, start, end - timedelta(days=1), seed_value)
        report.movements = _post_history(db, moves, refs, lambda done: tick("history", done, len(moves)))
        # 09:00 in Shanghai today (or now, if earlier)
        this_morning = datetime.combine(end, datetime.min.time(), tzinfo=UTC) + timedelta(hours=1)
        clock.use(clock.FrozenClock(min(this_morning, previous.now())))
        _featured_extras(db, people, refs)
        with db.unit_of_work() as s:
            report.risk_rules = demo_risk.seed(s)["rules"]  # after the featured transfers: rules act from now
        report.logins = demo_logins()
    finally:
        clock.use(previous)
    return report


def _staff(s: Session) -> int:
    password_hash = identity.hash_password(STAFF_PASSWORD)
    for username, name, role in STAFF:
        identity.create_staff(s, username=username, password=STAFF_PASSWORD, display_name=name, role=role,
                              password_hash=password_hash)
    return len(STAFF)


def _merchants(s: Session) -> dict[str, str]:
    """Each merchant's CNY settlement ledger account, by merchant name."""
    from atrium.payments.merchants import service as merchants

    out = {}
    for spec in MERCHANTS:
        m = merchants.create_merchant(s, name=spec.name, category=spec.category, city=spec.city,
                                      currencies=["CNY"])
        out[spec.name] = next(b.ledger_account_id for b in m.balances if b.currency == "CNY")
    return out


def _open_customer(s: Session, p: Person, password_hash: str, refs: dict[tuple, str]) -> int:
    c = identity.create_customer(s, username=p.username, display_name=p.display_name, locale=p.locale,
                                 password_hash=password_hash, phone=demo_identities.phone_of(p))
    demo_identities.give_kyc(c, p)
    opened = [("cur", accounts.open_account(s, customer_id=c.id, product="current", currency="CNY"))]
    if p.has_savings:
        opened.append(("sav", accounts.open_account(s, customer_id=c.id, product="savings", currency="CNY",
                                                    nickname="储蓄 Savings")))
    if p.has_usd:
        opened.append(("usd", accounts.open_account(s, customer_id=c.id, product="current", currency="USD")))
    for tag, acc in opened:
        refs[(tag, p.index)] = acc.ledger_account_id
        refs[("id", tag, p.index)] = acc.id
    refs[("customer", p.index)] = c.id
    return len(opened)


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _post_history(
    db: Database, moves: list[Movement], refs: dict[tuple, str], done: Callable[[int], None]
) -> int:
    """Post movements in time order, one batch per hour (the batch's time is its first movement's)."""
    posted = 0
    hours = groupby(moves, key=lambda mv: mv.at.replace(minute=0, second=0, microsecond=0))
    for day_hours in _chunks(list(hours_as_lists(hours)), 48):
        with db.unit_of_work() as s:
            for batch in day_hours:
                clock.use(clock.FrozenClock(batch[0].at))
                ledger.post_transfers(s, [_request(mv, refs, posted + i) for i, mv in enumerate(batch)])
                posted += len(batch)
        done(posted)
    return posted


def _featured_extras(db: Database, people: list[Person], refs: dict[tuple, str]) -> None:
    """Give the featured demo customers saved payees and a few real transfers through the payments
    service, so their transfer list, payee picker and an interbank settlement have something to show."""
    from atrium.payments import service as payments
    from atrium.payments.schemas import ExternalDestination, OwnDestination, PayeeCreate, PayeeDestination

    featured = [p for p in people if p.username in {u for u, _, _ in FEATURED}]
    others = [p for p in people if p not in featured][:3]
    banks = payments.list_banks()
    with db.unit_of_work() as s:
        for p in featured:
            customer_id = refs[("customer", p.index)]
            demo_identities.give_company(s, customer_id)
            demo_identities.give_merchant(s, customer_id)
            current = refs[("id", "cur", p.index)]
            payees = []
            for other in others:
                number = accounts.get_by_id(s, refs[("id", "cur", other.index)]).number
                payees.append(payments.save_payee(s, customer_id=customer_id, data=PayeeCreate(
                    type="atrium", account_number=number, account_name=other.display_name,
                    nickname=other.display_name)))
            external_bank = next(b for b in banks if "CNY" in b.currencies)
            payees.append(payments.save_payee(s, customer_id=customer_id, data=PayeeCreate(
                type="external", bank_code=external_bank.code, account_number="6217000012345678",
                account_name="王建国", nickname="父亲 Dad")))
            payments.transfer(s, customer_id=customer_id, idempotency_key=f"demo:{p.username}:t1",
                              from_account_id=current,
                              to=PayeeDestination(type="payee", payee_id=payees[0].id),
                              amount_minor=26_600, currency="CNY", memo="聚餐 AA", channel="mobile")
            payments.transfer(s, customer_id=customer_id, idempotency_key=f"demo:{p.username}:t2",
                              from_account_id=current, to=ExternalDestination(
                                  type="external", bank_code=external_bank.code,
                                  account_number="6217000012345678", account_name="王建国"),
                              amount_minor=200_000, currency="CNY", memo="生活费", channel="mobile")
            _standing_order(s, customer_id, current, refs.get(("id", "sav", p.index)), p.username)
            if ("id", "sav", p.index) in refs:
                payments.transfer(s, customer_id=customer_id, idempotency_key=f"demo:{p.username}:t3",
                                  from_account_id=current,
                                  to=OwnDestination(type="own", account_id=refs[("id", "sav", p.index)]),
                                  amount_minor=100_000, currency="CNY", memo="存起来", channel="mobile")


def _standing_order(s: Session, customer_id: str, current: str, savings: str | None, username: str) -> None:
    """A monthly savings sweep on the 1st: shows a standing order with its next run in the app."""
    if savings is None:
        return
    from atrium.payments.orders import service as orders
    from atrium.payments.orders.schemas import OrderCreate
    from atrium.payments.schemas import OwnDestination

    today = clock.now().date()
    first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    data = OrderCreate(
        from_account_id=current, to=OwnDestination(type="own", account_id=savings), amount_minor=200_000,
        currency="CNY", memo="每月储蓄 Monthly savings", frequency="monthly", start_on=first, day_of_month=1,
    )
    orders.create_order(s, customer_id=customer_id, idempotency_key=f"demo:{username}:order", data=data)


def hours_as_lists(groups: Iterator) -> Iterator[list[Movement]]:
    for _, group in groups:
        yield list(group)


def _request(mv: Movement, refs: dict[tuple, str], seq: int) -> TransferRequest:
    def account(ref: tuple) -> str:
        if ref == ("bank",) and mv.currency == "USD":
            return refs[("bank", "USD")]
        return refs[ref]

    return TransferRequest(
        idempotency_key=f"demo:history:{seq}",
        debit_account_id=account(mv.debit),
        credit_account_id=account(mv.credit),
        amount_minor=mv.amount_minor,
        currency=mv.currency,
        kind=mv.kind,
        description=mv.counterparty,
        metadata={"category": mv.category},
    )


def demo_logins() -> list[tuple[str, str, str]]:
    return [(u, DEMO_PASSWORD, "customer") for u, _, _ in FEATURED] + [
        (u, STAFF_PASSWORD, f"staff · {role}") for u, _, role in STAFF
    ]
