"""Pure domain rules, no database: balances, floors, balanced journals, hold transitions."""

from __future__ import annotations

import pytest

from atrium.kit.money import MAX_AMOUNT_MINOR
from atrium.ledger import domain
from atrium.ledger.domain import AccountBalance, HoldStatus, LegSpec, Side
from atrium.ledger.errors import (
    AmountOutOfRange,
    CurrencyMismatch,
    HoldNotPending,
    InsufficientFunds,
    InvalidLedgerRequest,
    UnbalancedJournal,
    UnsupportedCurrency,
)


def liability(id_: str = "L", **kw: int | bool) -> AccountBalance:
    return AccountBalance(id=id_, type="liability", currency="CNY", **kw)  # type: ignore[arg-type]


def asset(id_: str = "A", **kw: int | bool) -> AccountBalance:
    return AccountBalance(id=id_, type="asset", currency="CNY", enforce_floor=False, **kw)  # type: ignore[arg-type]


def test_booked_and_available_follow_the_normal_side() -> None:
    cust = liability(credits_posted=1000, debits_posted=300, debits_pending=200, credits_pending=50)
    assert cust.booked == 700  # credit-normal: credits − debits
    assert cust.available == 500  # pending debits reduce; pending credits do not count until posted
    cash = asset(debits_posted=1000, credits_posted=100, credits_pending=40)
    assert cash.booked == 900
    assert cash.available == 860


@pytest.mark.parametrize("type_", ["liability", "income", "equity"])
def test_credit_normal_types(type_: str) -> None:
    assert domain.is_credit_normal(type_)


@pytest.mark.parametrize("type_", ["asset", "expense"])
def test_debit_normal_types(type_: str) -> None:
    assert not domain.is_credit_normal(type_)


def test_plan_transfer_moves_money_and_snapshots_balances() -> None:
    cash, cust = asset(), liability()
    legs = domain.plan_transfer(cash, cust, 1500, "CNY")
    assert [(leg.account_id, leg.side, leg.amount_minor, leg.balance_after_minor) for leg in legs] == [
        ("A", Side.DEBIT, 1500, 1500), ("L", Side.CREDIT, 1500, 1500),
    ]
    assert cust.credits_posted == 1500 and cash.debits_posted == 1500


def test_floor_refuses_and_leaves_balances_untouched() -> None:
    cust, shop = liability(credits_posted=100), liability("S")
    with pytest.raises(InsufficientFunds) as err:
        domain.plan_transfer(cust, shop, 101, "CNY")
    assert err.value.extra["available_minor"] == 100
    assert cust.totals() == (0, 100, 0, 0) and shop.totals() == (0, 0, 0, 0)


def test_overdraft_limit_extends_the_floor() -> None:
    cust, shop = liability(credits_posted=100, overdraft_limit_minor=50), liability("S")
    domain.plan_transfer(cust, shop, 150, "CNY")
    assert cust.available == -50
    with pytest.raises(InsufficientFunds):
        domain.plan_transfer(cust, shop, 1, "CNY")


def test_unenforced_accounts_may_go_negative() -> None:
    fees = AccountBalance(id="F", type="income", currency="CNY", enforce_floor=False)
    cust = liability()
    domain.plan_transfer(fees, cust, 10, "CNY")
    assert fees.booked == -10


def test_a_deposit_is_accepted_into_an_account_below_its_floor() -> None:
    # An operator lowered the overdraft limit after the account went into it: money in still works.
    cust = liability(debits_posted=80, overdraft_limit_minor=0)
    domain.plan_transfer(asset(), cust, 10, "CNY")
    assert cust.booked == -70


def test_pending_reservations_count_against_the_floor() -> None:
    cust, shop = liability(credits_posted=100), liability("S")
    domain.reserve_hold(cust, shop, 80, "CNY")
    assert cust.available == 20 and shop.credits_pending == 80
    with pytest.raises(InsufficientFunds) as err:
        domain.plan_transfer(cust, shop, 21, "CNY")
    assert err.value.extra["available_minor"] == 20
    with pytest.raises(InsufficientFunds):
        domain.reserve_hold(cust, shop, 21, "CNY")
    assert cust.debits_pending == 80


def test_capture_posts_part_and_releases_everything() -> None:
    cust, shop = liability(credits_posted=100), liability("S")
    domain.reserve_hold(cust, shop, 80, "CNY")
    legs = domain.plan_capture(cust, shop, 80, 30, "CNY")
    assert [leg.amount_minor for leg in legs] == [30, 30]
    assert cust.totals() == (30, 100, 0, 0) and shop.totals() == (0, 30, 0, 0)


def test_capture_is_honoured_after_the_overdraft_limit_was_lowered() -> None:
    cust, shop = liability(credits_posted=100, overdraft_limit_minor=100), liability("S")
    domain.reserve_hold(cust, shop, 200, "CNY")
    cust.overdraft_limit_minor = 0
    domain.plan_capture(cust, shop, 200, 200, "CNY")
    assert cust.available == -100


def test_capture_amount_bounds() -> None:
    assert domain.capture_amount(80, None) == 80
    assert domain.capture_amount(80, 80) == 80
    with pytest.raises(AmountOutOfRange):
        domain.capture_amount(80, 81)
    with pytest.raises(AmountOutOfRange):
        domain.capture_amount(80, 0)


@pytest.mark.parametrize("amount", [0, -1, MAX_AMOUNT_MINOR + 1, 1.5, True, "10"])
def test_amount_must_be_a_positive_bounded_integer(amount: object) -> None:
    with pytest.raises(AmountOutOfRange):
        domain.check_amount(amount)


def test_amount_bounds_are_inclusive() -> None:
    assert domain.check_amount(1) == 1
    assert domain.check_amount(MAX_AMOUNT_MINOR) == MAX_AMOUNT_MINOR


def test_totals_refuse_to_overflow_64_bits() -> None:
    cust = liability(credits_posted=domain.TOTAL_LIMIT - 5)
    with pytest.raises(AmountOutOfRange):
        domain.plan_transfer(asset(), cust, 10, "CNY")


def test_journal_must_balance_per_currency() -> None:
    accounts = {
        "A": asset(), "L": liability(),
        "U": AccountBalance(id="U", type="asset", currency="USD", enforce_floor=False),
        "V": AccountBalance(id="V", type="liability", currency="USD"),
    }
    # 100 CNY debit against 100 USD credit: equal numbers, different currencies → unbalanced.
    with pytest.raises(UnbalancedJournal):
        domain.plan_journal(accounts, [LegSpec("A", "debit", 100), LegSpec("V", "credit", 100)])
    legs = domain.plan_journal(accounts, [
        LegSpec("A", "debit", 100), LegSpec("L", "credit", 100),
        LegSpec("U", "debit", 7), LegSpec("V", "credit", 7),
    ])
    assert {leg.currency for leg in legs} == {"CNY", "USD"}


def test_journal_needs_a_debit_and_a_credit() -> None:
    with pytest.raises(UnbalancedJournal):
        domain.check_balanced([(Side.DEBIT, 5, "CNY")])
    with pytest.raises(UnbalancedJournal):
        domain.check_balanced([(Side.DEBIT, 5, "CNY"), (Side.DEBIT, 5, "CNY")])


def test_unbalanced_split_is_refused_and_nothing_changes() -> None:
    accounts = {"A": asset(), "L": liability(), "M": liability("M")}
    with pytest.raises(UnbalancedJournal):
        domain.plan_journal(accounts, [
            LegSpec("A", "debit", 100), LegSpec("L", "credit", 60), LegSpec("M", "credit", 39),
        ])
    assert all(a.totals() == (0, 0, 0, 0) for a in accounts.values())


def test_leg_currency_must_match_the_account() -> None:
    with pytest.raises(CurrencyMismatch):
        domain.plan_journal({"A": asset(), "L": liability()},
                            [LegSpec("A", "debit", 1, "USD"), LegSpec("L", "credit", 1, "USD")])
    with pytest.raises(CurrencyMismatch):
        domain.plan_transfer(asset(), liability(), 1, "USD")


def test_same_account_on_both_sides_of_a_transfer_is_refused() -> None:
    cust = liability()
    with pytest.raises(InvalidLedgerRequest):
        domain.plan_transfer(cust, cust, 1, "CNY")


def test_an_account_twice_in_one_journal_gets_consecutive_snapshots() -> None:
    accounts = {"A": asset(), "L": liability()}
    legs = domain.plan_journal(accounts, [
        LegSpec("A", "debit", 100), LegSpec("L", "credit", 70), LegSpec("L", "credit", 30),
    ])
    assert [leg.balance_after_minor for leg in legs] == [100, 70, 100]


def test_unknown_side_type_and_currency_are_refused() -> None:
    with pytest.raises(InvalidLedgerRequest):
        domain.check_side("sideways")
    with pytest.raises(InvalidLedgerRequest):
        domain.check_account_type("bucket")
    with pytest.raises(UnsupportedCurrency):
        domain.check_ledger_currency("XXX")


@pytest.mark.parametrize("target", [HoldStatus.POSTED, HoldStatus.VOIDED, HoldStatus.EXPIRED])
def test_a_pending_hold_may_resolve_once(target: HoldStatus) -> None:
    assert domain.transition("h", "pending", target) is target
    for again in HoldStatus:
        with pytest.raises(HoldNotPending):
            domain.transition("h", target.value, again)


def test_trial_balance_arithmetic() -> None:
    tb = domain.TrialBalance()
    tb.add("CNY", "debit", 10)
    tb.add("CNY", "credit", 10)
    tb.add("USD", "debit", 3)
    assert tb.currencies() == ["CNY", "USD"]
    assert tb.difference("CNY") == 0 and tb.difference("USD") == 3
