"""Worked examples, in the manner of django-hordak: each reads as a little story with exact balances."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from atrium.kit import clock
from atrium.ledger import service as ledger
from atrium.ledger.errors import HoldExpired, HoldNotPending, InsufficientFunds
from atrium.ledger.service import LegSpec
from tests.ledger.factories import bank_cash, customer, deposit, hold, key


def test_salary_in(ls: Session) -> None:
    """An employer's salary arrives through the clearing system: bank asset +, customer liability +."""
    alice = customer(ls, name="alice")
    journal = deposit(ls, alice.id, 1_250_000, kind="salary")
    acct = ledger.get_account(ls, alice.id)
    assert (acct.booked_minor, acct.available_minor, acct.credits_posted) == (1_250_000, 1_250_000, 1_250_000)
    cash = bank_cash(ls)
    assert cash.booked_minor == 1_250_000  # debit-normal asset
    assert [(leg.side, leg.balance_after_minor) for leg in journal.legs] == [
        ("debit", 1_250_000), ("credit", 1_250_000),
    ]
    assert ledger.trial_balance(ls)["CNY"].difference_minor == 0


def test_card_like_spend_is_held_then_captured(ls: Session) -> None:
    """Authorise 88.00 (hold), the available balance drops at once, the booked one at capture."""
    alice, shop = customer(ls), customer(ls, name="coffee shop")
    deposit(ls, alice.id, 10_000)
    auth = hold(ls, alice.id, shop.id, 8_800)
    acct = ledger.get_account(ls, alice.id)
    assert (acct.booked_minor, acct.pending_debits_minor, acct.available_minor) == (10_000, 8_800, 1_200)
    assert ledger.get_account(ls, shop.id).credits_pending == 8_800
    journal = ledger.post_hold(ls, hold_id=auth.id, idempotency_key=key("cap"))
    assert journal.hold_id == auth.id and journal.kind == "card"
    acct = ledger.get_account(ls, alice.id)
    assert (acct.booked_minor, acct.debits_pending, acct.available_minor) == (1_200, 0, 1_200)
    assert ledger.get_account(ls, shop.id).booked_minor == 8_800


def test_refund_via_reversal(ls: Session) -> None:
    """The shop refunds a purchase: the original journal is reversed (sides swapped), never edited."""
    alice, shop = customer(ls), customer(ls, name="shop")
    deposit(ls, alice.id, 5_000)
    purchase = ledger.post_transfer(
        ls, idempotency_key=key(), debit_account_id=alice.id, credit_account_id=shop.id,
        amount_minor=3_000, currency="CNY", kind="purchase", description="shoes",
    )
    refund = ledger.reverse(ls, journal_id=purchase.id, idempotency_key=key(), reason="returned the shoes")
    assert refund.reverses_id == purchase.id and refund.kind == "reversal"
    assert [(leg.account_id, leg.side) for leg in refund.legs] == [(alice.id, "credit"), (shop.id, "debit")]
    assert ledger.get_account(ls, alice.id).booked_minor == 5_000
    assert ledger.get_account(ls, shop.id).booked_minor == 0
    # The original is untouched and still on the statement, followed by its reversal.
    entries = ledger.list_entries(ls, alice.id).items
    assert [(e.kind, e.side, e.amount_minor, e.balance_after_minor) for e in entries] == [
        ("reversal", "credit", 3_000, 5_000),
        ("purchase", "debit", 3_000, 2_000),
        ("deposit", "credit", 5_000, 5_000),
    ]


def test_partial_hold_capture_releases_the_rest(ls: Session) -> None:
    """A hotel holds 500.00 and captures 320.00: 180.00 comes back to available."""
    alice, hotel = customer(ls), customer(ls, name="hotel")
    deposit(ls, alice.id, 60_000)
    auth = hold(ls, alice.id, hotel.id, 50_000)
    assert ledger.get_account(ls, alice.id).available_minor == 10_000
    journal = ledger.post_hold(ls, hold_id=auth.id, idempotency_key=key("cap"), amount_minor=32_000)
    assert [leg.amount_minor for leg in journal.legs] == [32_000, 32_000]
    acct = ledger.get_account(ls, alice.id)
    assert (acct.booked_minor, acct.debits_pending, acct.available_minor) == (28_000, 0, 28_000)
    assert ledger.get_account(ls, hotel.id).credits_pending == 0
    with pytest.raises(HoldNotPending):  # a hold is captured once
        ledger.post_hold(ls, hold_id=auth.id, idempotency_key=key("cap"), amount_minor=1)


def test_hold_expiry_gives_the_money_back(ls: Session, frozen: clock.FrozenClock) -> None:
    alice, shop = customer(ls), customer(ls, name="shop")
    deposit(ls, alice.id, 1_000)
    auth = hold(ls, alice.id, shop.id, 700, ttl_s=600)
    assert ledger.expire_holds(ls) == 0  # not yet
    frozen.set(clock.now() + timedelta(seconds=601))
    with pytest.raises(HoldExpired):  # past its time, a hold cannot be captured even before the job ran
        ledger.post_hold(ls, hold_id=auth.id, idempotency_key=key("cap"))
    assert ledger.expire_holds(ls) == 1
    assert ledger.get_account(ls, alice.id).available_minor == 1_000
    assert ledger.get_account(ls, shop.id).credits_pending == 0
    with pytest.raises(HoldNotPending):
        ledger.void_hold(ls, hold_id=auth.id, idempotency_key=key("void"))
    assert ledger.expire_holds(ls) == 0


def test_void_releases_a_hold(ls: Session) -> None:
    alice, shop = customer(ls), customer(ls, name="shop")
    deposit(ls, alice.id, 1_000)
    auth = hold(ls, alice.id, shop.id, 400)
    voided = ledger.void_hold(ls, hold_id=auth.id, idempotency_key=key("void"))
    assert voided.status == "voided" and voided.resolved_at is not None
    assert ledger.get_account(ls, alice.id).available_minor == 1_000
    with pytest.raises(HoldNotPending):
        ledger.post_hold(ls, hold_id=auth.id, idempotency_key=key("cap"))


def test_overdraft_limit(ls: Session) -> None:
    """An account with a 200.00 overdraft may go to −200.00 and no further; the error names what is left."""
    alice, shop = customer(ls, overdraft_minor=20_000), customer(ls, name="shop")
    deposit(ls, alice.id, 5_000)
    ledger.post_transfer(ls, idempotency_key=key(), debit_account_id=alice.id, credit_account_id=shop.id,
                         amount_minor=25_000, currency="CNY", kind="purchase")
    acct = ledger.get_account(ls, alice.id)
    assert acct.booked_minor == -20_000 and acct.available_minor == -20_000
    with pytest.raises(InsufficientFunds) as err:
        ledger.post_transfer(ls, idempotency_key=key(), debit_account_id=alice.id, credit_account_id=shop.id,
                             amount_minor=1, currency="CNY", kind="purchase")
    assert err.value.status == 422
    assert err.value.extra["available_minor"] == -20_000
    assert "available -20000" in err.value.detail


def test_insufficient_funds_names_the_available_amount_and_writes_nothing(ls: Session) -> None:
    alice, shop = customer(ls), customer(ls, name="shop")
    deposit(ls, alice.id, 1_000)
    hold(ls, alice.id, shop.id, 300)
    k = key()
    with pytest.raises(InsufficientFunds) as err:
        ledger.post_transfer(ls, idempotency_key=k, debit_account_id=alice.id, credit_account_id=shop.id,
                             amount_minor=701, currency="CNY", kind="purchase")
    assert err.value.extra["available_minor"] == 700
    assert len(ledger.list_entries(ls, alice.id).items) == 1
    # The key was not consumed by the refusal: once funds arrive, the same request goes through.
    deposit(ls, alice.id, 1)
    j = ledger.post_transfer(ls, idempotency_key=k, debit_account_id=alice.id, credit_account_id=shop.id,
                             amount_minor=701, currency="CNY", kind="purchase")
    assert j.legs[0].balance_after_minor == 300


def test_multi_leg_journal_with_fee(ls: Session) -> None:
    """A transfer with a fee: one journal, three legs, balanced."""
    alice, bob = customer(ls), customer(ls, name="bob")
    fees = ledger.get_or_create_internal(ls, code="bank:fees:CNY", name="Fees", type="income", currency="CNY")
    deposit(ls, alice.id, 10_000)
    journal = ledger.post_journal(ls, idempotency_key=key(), kind="transfer.with-fee", legs=[
        LegSpec(alice.id, "debit", 1_050), LegSpec(bob.id, "credit", 1_000), LegSpec(fees.id, "credit", 50),
    ], metadata={"fee_minor": 50})
    assert len(journal.legs) == 3 and journal.metadata == {"fee_minor": 50}
    assert ledger.get_account(ls, fees.id).booked_minor == 50
    assert ledger.get_journal(ls, journal.id) == journal


def test_interest_expense_and_foreign_currency(ls: Session) -> None:
    """Interest paid by the bank (expense) in CNY and a USD deposit: each currency balances alone."""
    alice_cny, alice_usd = customer(ls), customer(ls, currency="USD")
    interest = ledger.get_or_create_internal(ls, code="bank:interest-expense:CNY", name="Interest",
                                             type="expense", currency="CNY")
    ledger.post_transfer(ls, idempotency_key=key(), debit_account_id=interest.id,
                         credit_account_id=alice_cny.id, amount_minor=123, currency="CNY", kind="interest")
    deposit(ls, alice_usd.id, 999, currency="USD")
    tb = ledger.trial_balance(ls)
    assert tb["CNY"].debits_minor == tb["CNY"].credits_minor == 123
    assert tb["USD"].debits_minor == tb["USD"].credits_minor == 999
    assert ledger.get_account(ls, interest.id).booked_minor == 123  # expense: debit-normal
