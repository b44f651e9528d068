"""A small bank for the system tests (customers with funded CNY accounts), and the audits that read the
database back after a load: transfers against their journals, legs and events."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select

from atrium.accounts import service as accounts
from atrium.accounts.schemas import DepositAccountRead
from atrium.db.session import Database
from atrium.events.models import OutboxEvent
from atrium.ledger import service as ledger
from atrium.ledger.models import Journal, Leg
from atrium.payments.models import Transfer
from tests.payments import factories as pay

PASSWORD = pay.PASSWORD
CURRENCY = "CNY"


@dataclass(frozen=True)
class Bank:
    usernames: dict[str, str]  # customer id → username
    accounts: list[DepositAccountRead]
    opening: dict[str, int]  # deposit account id → booked balance after funding


def seed(db: Database, *, customers: int, accounts_each: int, funds_minor: int, tag: str) -> Bank:
    """`customers` customers with `accounts_each` current accounts of `funds_minor` each, committed."""
    usernames: dict[str, str] = {}
    opened: list[DepositAccountRead] = []
    with db.unit_of_work() as s:
        for c in range(customers):
            username = f"{tag}-{c:02d}"
            cid = pay.customer(s, username=username, display_name=f"System Customer {c}")
            usernames[cid] = username
            opened += [pay.account(s, cid, funds=funds_minor) for _ in range(accounts_each)]
    return Bank(usernames=usernames, accounts=opened, opening={a.id: a.booked_minor for a in opened})


def balances(db: Database, account_ids: Iterable[str]) -> dict[str, tuple[int, int]]:
    """(booked, available) of each deposit account."""
    with db.session() as s:
        out = {}
        for account_id in account_ids:
            a = accounts.get_by_id(s, account_id)
            out[account_id] = (a.booked_minor, a.available_minor)
        return out


def expected_balances(bank: Bank, transfers: Iterable[tuple[str, str, int]]) -> dict[str, int]:
    """Opening balances moved by (from account, to account, amount) — computed without the database."""
    want = dict(bank.opening)
    for source, destination, amount in transfers:
        want[source] -= amount
        want[destination] += amount
    return want


@dataclass(frozen=True)
class TransferAudit:
    """What the database holds for the transfers, each problem spelled out (empty lists when sound)."""

    transfers: dict[str, Transfer]  # id → row
    per_key: Counter[tuple[str, str]]  # (customer, idempotency key) → rows
    problems: list[str]

    def by_key(self, customer_id: str, key: str) -> Transfer | None:
        for t in self.transfers.values():
            if t.customer_id == customer_id and t.idempotency_key == key:
                return t
        return None


def audit_transfers(db: Database) -> TransferAudit:
    """For own and internal transfers (they post at once; interbank ones hold instead): each has exactly
    one journal (its `<id>:post` key) with two legs that move its amount from its source to its
    destination ledger account, and exactly one TransferCompleted event; no journal or event of a transfer
    exists without its transfer row (nothing half-applied)."""
    problems: list[str] = []
    with db.session() as s:
        rows = {t.id: t for t in s.scalars(select(Transfer))}
        transfer_journals = select(Journal).where(Journal.kind.like("transfer.%"))
        journals = {j.idempotency_key: j for j in s.scalars(transfer_journals)}
        legs: dict[str, list[Leg]] = {}
        for leg in s.scalars(select(Leg).join(Journal, Journal.id == Leg.journal_id)
                             .where(Journal.kind.like("transfer.%"))):
            legs.setdefault(leg.journal_id, []).append(leg)
        events = Counter(
            e.payload.get("transfer_id")
            for e in s.scalars(select(OutboxEvent).where(OutboxEvent.type == "TransferCompleted"))
        )
        per_key = Counter(
            {(c, k): n for c, k, n in s.execute(
                select(Transfer.customer_id, Transfer.idempotency_key, func.count()).group_by(
                    Transfer.customer_id, Transfer.idempotency_key))}
        )
        s.expunge_all()
    for key, n in per_key.items():
        if n != 1:
            problems.append(f"idempotency key {key} has {n} transfers")
    for t in rows.values():
        journal = journals.get(f"{t.id}:post")
        if journal is None or t.journal_id != journal.id:
            problems.append(f"transfer {t.id} has no journal (journal_id {t.journal_id})")
            continue
        shape = sorted((leg.side, leg.account_id, leg.amount_minor) for leg in legs.get(journal.id, []))
        want = sorted([("debit", t.from_ledger_account_id, t.amount_minor),
                       ("credit", t.to_ledger_account_id, t.amount_minor)])
        if shape != want:
            problems.append(f"transfer {t.id}: journal legs {shape}, expected {want}")
        if events[t.id] != 1:
            problems.append(f"transfer {t.id} has {events[t.id]} TransferCompleted events")
    orphans = {k.removesuffix(":post") for k in journals} - rows.keys()
    problems += [f"journal for transfer {t} without the transfer row" for t in sorted(orphans)]
    problems += [f"TransferCompleted event for transfer {t} without the row" for t in events if t not in rows]
    return TransferAudit(transfers=rows, per_key=per_key, problems=problems)


def ledger_report(db: Database) -> tuple[bool, list[str], dict[str, int]]:
    """(check ok, its discrepancies, trial-balance difference per currency)."""
    with db.session() as s:
        report = ledger.check(s)
    with db.session() as s:
        tb = ledger.trial_balance(s)
    return (report.ok, [d.detail for d in report.discrepancies],
            {c: line.difference_minor for c, line in tb.items()})
