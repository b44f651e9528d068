"""`check()` and `atrium ledger check` find every kind of damage, made here behind the service's back."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from atrium.cli import app
from atrium.db.session import Database
from atrium.ledger import service as ledger
from tests.ledger.factories import PG, customer, deposit, hold


@pytest.fixture()
def books(db: Database) -> dict[str, str]:
    with db.unit_of_work() as s:
        alice, shop = customer(s, name="alice"), customer(s, name="shop")
        j = deposit(s, alice.id, 1_000)
        hold(s, alice.id, shop.id, 300)
    return {"alice": alice.id, "shop": shop.id, "journal": j.id}


def report_after(db: Database, sql: str, **params: str):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        s.execute(text(sql), params)
    with db.read_session() as r:
        return ledger.check(r)


def test_clean_ledger_passes(db: Database, books: dict[str, str]) -> None:
    with db.read_session() as r:
        report = ledger.check(r)
    assert report.ok and report.accounts_checked == 3 and report.journals_checked == 1
    assert report.trial_balance["CNY"].balanced


def test_a_tampered_posted_total_is_found(db: Database, books: dict[str, str]) -> None:
    report = report_after(db, "UPDATE ledger_accounts SET credits_posted = credits_posted + 5 WHERE id = :a",
                          a=books["alice"])
    found = {(d.check, d.subject_id) for d in report.discrepancies}
    assert ("posted-totals", books["alice"]) in found and not report.ok


def test_a_tampered_pending_total_is_found(db: Database, books: dict[str, str]) -> None:
    report = report_after(db, "UPDATE ledger_accounts SET credits_pending = 0 WHERE id = :a", a=books["shop"])
    assert [(d.check, d.expected, d.actual) for d in report.discrepancies] == [("pending-totals", 300, 0)]


def test_a_floor_breach_is_found(db: Database, books: dict[str, str]) -> None:
    report = report_after(db, "UPDATE ledger_accounts SET debits_pending = 5000 WHERE id = :a",
                          a=books["alice"])
    assert {d.check for d in report.discrepancies} == {"pending-totals", "balance-floor"}


@pytest.mark.skipif(PG, reason="PostgreSQL refuses the UPDATE itself (test_postgres.py)")
def test_unbalanced_legs_are_found_on_sqlite(db: Database, books: dict[str, str]) -> None:
    """SQLite has no deferred trigger, so damage can be written; check() must see it."""
    assert db.is_sqlite
    report = report_after(
        db, "UPDATE ledger_legs SET amount_minor = 999 WHERE journal_id = :j AND side = 'debit'",
        j=books["journal"],
    )
    checks = {d.check for d in report.discrepancies}
    assert {"trial-balance", "journal-balance", "posted-totals"} <= checks


def test_cli_prints_the_trial_balance_and_exits_0(db: Database, books: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["ledger", "check"])
    assert result.exit_code == 0, result.output
    assert "CNY" in result.output and "no discrepancies" in result.output


def test_cli_exits_1_and_lists_discrepancies(db: Database, books: dict[str, str]) -> None:
    with db.unit_of_work() as s:
        s.execute(text("UPDATE ledger_accounts SET debits_posted = 7 WHERE id = :a"), {"a": books["shop"]})
    result = CliRunner().invoke(app, ["ledger", "check"])
    assert result.exit_code == 1
    assert "posted-totals" in result.output and "discrepanc" in result.output


def test_trial_balance_counts_accounts(ls: Session) -> None:
    customer(ls, currency="USD")
    line = ledger.trial_balance(ls)["USD"]
    assert (line.accounts, line.debits_minor, line.credits_minor, line.balanced) == (1, 0, 0, True)
