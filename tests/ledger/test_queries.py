"""Reading the ledger: accounts, journals, statement entries (filters, keyset cursor), validation errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from atrium.kit import clock
from atrium.kit.errors import ValidationFailed
from atrium.ledger import service as ledger
from atrium.ledger.errors import (
    AccountCodeTaken,
    AccountNotFound,
    AmountOutOfRange,
    CurrencyMismatch,
    HoldNotFound,
    InsufficientFunds,
    InvalidLedgerRequest,
    JournalNotFound,
    UnbalancedJournal,
    UnsupportedCurrency,
)
from atrium.ledger.service import LegSpec, TransferRequest
from tests.ledger.factories import bank_cash, customer, deposit, hold, key


def test_open_account_validates(ls: Session) -> None:
    with pytest.raises(InvalidLedgerRequest):
        ledger.open_account(ls, name="x", type="bucket", currency="CNY")
    with pytest.raises(UnsupportedCurrency):
        ledger.open_account(ls, name="x", type="asset", currency="XYZ")
    with pytest.raises(InvalidLedgerRequest):
        ledger.open_account(ls, name="x", type="liability", currency="CNY", overdraft_limit_minor=-1)
    with pytest.raises(InvalidLedgerRequest):
        ledger.open_account(ls, name="", type="liability", currency="CNY")
    acct = ledger.open_account(ls, name="ops float", type="asset", currency="CNY", code="bank:float:CNY",
                               enforce_floor=False)
    assert acct.code == "bank:float:CNY" and ledger.get_account_by_code(ls, "bank:float:CNY") == acct
    with pytest.raises(AccountCodeTaken):
        ledger.open_account(ls, name="again", type="asset", currency="CNY", code="bank:float:CNY")


def test_internal_accounts_are_found_by_code(ls: Session) -> None:
    first = bank_cash(ls)
    assert bank_cash(ls).id == first.id and not first.enforce_floor
    with pytest.raises(AccountCodeTaken):  # same code, another type: a configuration mistake, loudly
        ledger.get_or_create_internal(ls, code=first.code or "", name="x", type="liability", currency="CNY")


def test_unknown_ids_are_404(ls: Session) -> None:
    alice = customer(ls)
    for call in (
        lambda: ledger.get_account(ls, "lac_nope"),
        lambda: ledger.list_entries(ls, "lac_nope"),
        lambda: ledger.post_transfer(ls, idempotency_key=key(), debit_account_id=alice.id,
                                     credit_account_id="lac_nope", amount_minor=1, currency="CNY", kind="x"),
    ):
        with pytest.raises(AccountNotFound) as err:
            call()
        assert err.value.status == 404
    with pytest.raises(JournalNotFound):
        ledger.get_journal(ls, "jnl_nope")
    with pytest.raises(JournalNotFound):
        ledger.reverse(ls, journal_id="jnl_nope", idempotency_key=key(), reason="x")
    with pytest.raises(HoldNotFound):
        ledger.post_hold(ls, hold_id="hld_nope", idempotency_key=key())


def test_service_level_validation(ls: Session) -> None:
    alice, usd = customer(ls), customer(ls, currency="USD")
    cash = bank_cash(ls)

    def send(**kw):  # type: ignore[no-untyped-def]
        args = {"idempotency_key": key(), "debit_account_id": cash.id, "credit_account_id": alice.id,
                "amount_minor": 1, "currency": "CNY", "kind": "x"} | kw
        return ledger.post_transfer(ls, **args)

    with pytest.raises(CurrencyMismatch):
        send(credit_account_id=usd.id)
    with pytest.raises(CurrencyMismatch):
        send(currency="USD")
    with pytest.raises(AmountOutOfRange):
        send(amount_minor=0)
    with pytest.raises(InvalidLedgerRequest):
        send(credit_account_id=cash.id)
    with pytest.raises(InvalidLedgerRequest):
        send(idempotency_key="")
    with pytest.raises(InvalidLedgerRequest):
        send(metadata={"x": object()})
    with pytest.raises(InvalidLedgerRequest):
        send(kind="")
    with pytest.raises(UnbalancedJournal):
        ledger.post_journal(ls, idempotency_key=key(), kind="x",
                            legs=[LegSpec(cash.id, "debit", 2), LegSpec(alice.id, "credit", 1)])
    with pytest.raises(InvalidLedgerRequest):
        ledger.place_hold(ls, idempotency_key=key(), debit_account_id=alice.id, credit_account_id=cash.id,
                          amount_minor=1, currency="CNY", expires_at=clock.now() - timedelta(seconds=1),
                          kind="x")
    assert ledger.get_account(ls, alice.id).credits_posted == 0


def test_list_entries_newest_first_with_cursor(ls: Session) -> None:
    alice = customer(ls)
    for amount in range(1, 8):
        deposit(ls, alice.id, amount)
    page1 = ledger.list_entries(ls, alice.id, limit=3)
    assert [e.amount_minor for e in page1.items] == [7, 6, 5] and page1.next_cursor
    page2 = ledger.list_entries(ls, alice.id, limit=3, cursor=page1.next_cursor)
    page3 = ledger.list_entries(ls, alice.id, limit=3, cursor=page2.next_cursor)
    assert [e.amount_minor for e in page2.items + page3.items] == [4, 3, 2, 1]
    assert page3.next_cursor is None
    assert [e.balance_after_minor for e in page1.items] == [28, 21, 15]
    with pytest.raises(ValidationFailed):
        ledger.list_entries(ls, alice.id, cursor="not-a-cursor")
    with pytest.raises(InvalidLedgerRequest):
        ledger.list_entries(ls, alice.id, limit=0)


def test_list_entries_filters(ls: Session, frozen) -> None:  # type: ignore[no-untyped-def]
    alice, shop = customer(ls), customer(ls, name="shop")
    start = clock.now()
    deposit(ls, alice.id, 10_000, kind="salary")
    frozen.set(start + timedelta(days=1))
    ledger.post_transfer(ls, idempotency_key=key(), debit_account_id=alice.id, credit_account_id=shop.id,
                         amount_minor=250, currency="CNY", kind="purchase", description="coffee",
                         metadata={"mcc": "5814"})
    frozen.set(start + timedelta(days=2))
    ledger.post_transfer(ls, idempotency_key=key(), debit_account_id=alice.id, credit_account_id=shop.id,
                         amount_minor=3_000, currency="CNY", kind="purchase")

    def amounts(**kw):  # type: ignore[no-untyped-def]
        return [e.amount_minor for e in ledger.list_entries(ls, alice.id, **kw).items]

    assert amounts(kinds=["purchase"]) == [3_000, 250]
    assert amounts(direction="credit") == [10_000]
    assert amounts(min_amount=251) == [3_000, 10_000]
    assert amounts(max_amount=3_000, min_amount=250) == [3_000, 250]
    assert amounts(since=start + timedelta(days=1)) == [3_000, 250]
    assert amounts(until=start + timedelta(days=1)) == [10_000]
    assert amounts(since=start + timedelta(days=1), until=start + timedelta(days=2)) == [250]
    coffee = ledger.list_entries(ls, alice.id, max_amount=250).items[0]
    assert (coffee.kind, coffee.description, coffee.metadata, coffee.side) == (
        "purchase", "coffee", {"mcc": "5814"}, "debit")
    with pytest.raises(InvalidLedgerRequest):
        amounts(direction="sideways")


def test_batch_posts_in_order_and_refuses_as_a_whole(ls: Session) -> None:
    alice, bob = customer(ls, name="alice"), customer(ls, name="bob")
    deposit(ls, alice.id, 100)
    out = ledger.post_transfers(ls, [
        TransferRequest(key(), alice.id, bob.id, 60, "CNY", "p2p"),
        TransferRequest(key(), bob.id, alice.id, 10, "CNY", "p2p"),
        TransferRequest(key(), alice.id, bob.id, 50, "CNY", "p2p"),  # needs the 10 that came back
    ])
    assert [j.legs[0].balance_after_minor for j in out] == [40, 50, 0]
    assert ledger.get_account(ls, bob.id).booked_minor == 100
    entries_before = len(ledger.list_entries(ls, bob.id).items)
    with pytest.raises(InsufficientFunds):
        ledger.post_transfers(ls, [
            TransferRequest(key(), bob.id, alice.id, 100, "CNY", "p2p"),
            TransferRequest(key(), bob.id, alice.id, 1, "CNY", "p2p"),
        ])
    assert len(ledger.list_entries(ls, bob.id).items) == entries_before  # nothing of the batch written
    assert ledger.get_account(ls, bob.id).booked_minor == 100
    assert ledger.post_transfers(ls, []) == []


def test_hold_shows_in_account_read(ls: Session) -> None:
    alice, shop = customer(ls), customer(ls, name="shop")
    deposit(ls, alice.id, 500)
    h = hold(ls, alice.id, shop.id, 200)
    assert h.status == "pending" and h.posted_amount_minor is None
    read = ledger.get_account(ls, alice.id)
    assert (read.pending_debits_minor, read.available_minor, read.booked_minor) == (200, 300, 500)
