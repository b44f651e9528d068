"""Pure ledger rules: balances, floors, balanced journals, hold transitions. No SQLAlchemy, no FastAPI.

The service loads account rows (locked), copies them into `AccountBalance` values, lets these functions
decide, and writes the result back. Everything here is testable without a database
(tests/ledger/test_domain.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from atrium.kit.money import MAX_AMOUNT_MINOR, CurrencyError, check_currency
from atrium.ledger.errors import (
    AmountOutOfRange,
    CurrencyMismatch,
    HoldNotPending,
    InsufficientFunds,
    InvalidLedgerRequest,
    UnbalancedJournal,
    UnsupportedCurrency,
)

# Cached totals live in signed 64-bit columns; a total that would pass this is refused, not wrapped.
TOTAL_LIMIT = 2**63 - 1


class AccountType(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    INCOME = "income"
    EXPENSE = "expense"
    EQUITY = "equity"


class Side(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


class HoldStatus(StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"
    EXPIRED = "expired"


CREDIT_NORMAL = frozenset({AccountType.LIABILITY, AccountType.INCOME, AccountType.EQUITY})


def is_credit_normal(account_type: str) -> bool:
    return AccountType(account_type) in CREDIT_NORMAL


def check_account_type(value: str) -> AccountType:
    try:
        return AccountType(value)
    except ValueError:
        raise InvalidLedgerRequest(
            f"unknown ledger account type {value!r}", allowed=[t.value for t in AccountType]
        ) from None


def check_side(value: str) -> Side:
    try:
        return Side(value)
    except ValueError:
        raise InvalidLedgerRequest(f"a leg's side is 'debit' or 'credit', not {value!r}") from None


def check_amount(amount_minor: object) -> int:
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise AmountOutOfRange("amount_minor must be an integer number of minor units")
    if not 1 <= amount_minor <= MAX_AMOUNT_MINOR:
        raise AmountOutOfRange(
            f"amount_minor must be between 1 and {MAX_AMOUNT_MINOR}", amount_minor=amount_minor,
            max_amount_minor=MAX_AMOUNT_MINOR,
        )
    return amount_minor


def check_ledger_currency(code: str) -> str:
    try:
        return check_currency(code)
    except CurrencyError as exc:
        raise UnsupportedCurrency(str(exc), currency=code) from None


@dataclass(frozen=True, slots=True)
class LegSpec:
    """One leg of a journal to post. `currency`, if given, must equal the account's currency."""

    account_id: str
    side: str  # "debit" | "credit"
    amount_minor: int
    currency: str | None = None


@dataclass(slots=True)
class AccountBalance:
    """A ledger account's rules and cached totals (TigerBeetle's four counters)."""

    id: str
    type: str
    currency: str
    enforce_floor: bool = True
    overdraft_limit_minor: int = 0
    debits_posted: int = 0
    credits_posted: int = 0
    debits_pending: int = 0
    credits_pending: int = 0

    @property
    def credit_normal(self) -> bool:
        return is_credit_normal(self.type)

    @property
    def booked(self) -> int:
        """Posted balance in the account's normal direction."""
        if self.credit_normal:
            return self.credits_posted - self.debits_posted
        return self.debits_posted - self.credits_posted

    @property
    def pending_reductions(self) -> int:
        """Reserved by holds: pending movements against the normal direction."""
        return self.debits_pending if self.credit_normal else self.credits_pending

    @property
    def available(self) -> int:
        return self.booked - self.pending_reductions

    @property
    def floor(self) -> int:
        return -self.overdraft_limit_minor

    def totals(self) -> tuple[int, int, int, int]:
        return (self.debits_posted, self.credits_posted, self.debits_pending, self.credits_pending)

    def restore(self, totals: tuple[int, int, int, int]) -> None:
        self.debits_posted, self.credits_posted, self.debits_pending, self.credits_pending = totals

    def add(self, side: Side, amount: int, *, pending: bool = False) -> None:
        """Add (or, with a negative amount, release) a movement on one side."""
        name = f"{side.value}s_{'pending' if pending else 'posted'}"
        value = getattr(self, name) + amount
        if value > TOTAL_LIMIT:
            raise AmountOutOfRange(
                "the movement would overflow the ledger account's running totals", account_id=self.id
            )
        if value < 0:  # releasing more than was reserved would mean a bookkeeping bug upstream
            raise InvalidLedgerRequest(f"{name} of {self.id} would become negative")
        setattr(self, name, value)


def check_floors(before: Mapping[str, int], accounts: Iterable[AccountBalance]) -> None:
    """Refuse if any floor-enforced account whose available balance fell is now below its floor.

    Accounts whose available balance rose (or stayed) are never refused: a deposit must be accepted even
    into an account an operator has just given a lower overdraft limit.
    """
    for acc in accounts:
        if not acc.enforce_floor or acc.available >= before[acc.id]:
            continue
        if acc.available < acc.floor:
            spendable = before[acc.id] + acc.overdraft_limit_minor
            raise InsufficientFunds(
                f"insufficient funds in ledger account {acc.id}: available {before[acc.id]}"
                f" {acc.currency} (overdraft limit {acc.overdraft_limit_minor})",
                account_id=acc.id, available_minor=before[acc.id], currency=acc.currency,
                overdraft_limit_minor=acc.overdraft_limit_minor, spendable_minor=spendable,
            )


@dataclass(frozen=True, slots=True)
class PlannedLeg:
    account_id: str
    side: Side
    amount_minor: int
    currency: str
    balance_after_minor: int


@dataclass(slots=True)
class _Sums:
    debit: int = 0
    credit: int = 0


def check_balanced(legs: Sequence[tuple[Side, int, str]]) -> None:
    """Debits equal credits in each currency; at least one debit and one credit."""
    if len(legs) < 2:
        raise UnbalancedJournal("a journal needs at least one debit and one credit leg")
    sums: dict[str, _Sums] = defaultdict(_Sums)
    for side, amount, currency in legs:
        s = sums[currency]
        if side is Side.DEBIT:
            s.debit += amount
        else:
            s.credit += amount
    for currency, s in sums.items():
        if s.debit != s.credit:
            raise UnbalancedJournal(
                f"{currency} debits {s.debit} differ from credits {s.credit}",
                currency=currency, debits_minor=s.debit, credits_minor=s.credit,
            )


def plan_journal(
    accounts: Mapping[str, AccountBalance],
    legs: Sequence[LegSpec],
    *,
    available_before: Mapping[str, int] | None = None,
) -> list[PlannedLeg]:
    """Validate `legs` and apply them to `accounts` (mutated in place only if every rule holds).

    Returns the legs with currency and the account's booked balance right after each leg (the statement
    snapshot; an account that appears twice gets two consecutive snapshots). `available_before` lets a
    hold capture measure the floor against the balance before its reservation was released.
    """
    checked: list[tuple[AccountBalance, Side, int]] = []
    for leg in legs:
        side = check_side(leg.side)
        amount = check_amount(leg.amount_minor)
        acc = accounts[leg.account_id]
        if leg.currency is not None and leg.currency != acc.currency:
            raise CurrencyMismatch(
                f"leg currency {leg.currency} differs from ledger account {acc.id}'s {acc.currency}",
                account_id=acc.id, account_currency=acc.currency, currency=leg.currency,
            )
        checked.append((acc, side, amount))
    check_balanced([(side, amount, acc.currency) for acc, side, amount in checked])

    touched = {acc.id: acc for acc, _, _ in checked}
    saved = {acc_id: acc.totals() for acc_id, acc in touched.items()}
    before = {acc_id: acc.available for acc_id, acc in touched.items()}
    if available_before is not None:
        before.update(available_before)
    planned: list[PlannedLeg] = []
    try:
        for acc, side, amount in checked:
            acc.add(side, amount)
            planned.append(PlannedLeg(acc.id, side, amount, acc.currency, acc.booked))
        check_floors(before, touched.values())
    except Exception:
        for acc_id, totals in saved.items():
            touched[acc_id].restore(totals)
        raise
    return planned


def plan_transfer(
    debit: AccountBalance, credit: AccountBalance, amount_minor: int, currency: str
) -> list[PlannedLeg]:
    """A simple two-leg transfer; both accounts must be in `currency` and differ."""
    check_transfer_accounts(debit, credit, currency)
    return plan_journal(
        {debit.id: debit, credit.id: credit},
        [LegSpec(debit.id, Side.DEBIT, amount_minor), LegSpec(credit.id, Side.CREDIT, amount_minor)],
    )


def check_transfer_accounts(debit: AccountBalance, credit: AccountBalance, currency: str) -> None:
    if debit.id == credit.id:
        raise InvalidLedgerRequest("the debit and credit accounts must differ", account_id=debit.id)
    for acc in (debit, credit):
        if acc.currency != currency:
            raise CurrencyMismatch(
                f"{currency} cannot move through ledger account {acc.id} held in {acc.currency}",
                account_id=acc.id, account_currency=acc.currency, currency=currency,
            )


def reserve_hold(debit: AccountBalance, credit: AccountBalance, amount_minor: int, currency: str) -> None:
    """Place a hold: raise both pending totals; the floor counts the reservation."""
    check_transfer_accounts(debit, credit, currency)
    check_amount(amount_minor)
    accounts = {debit.id: debit, credit.id: credit}
    saved = {k: a.totals() for k, a in accounts.items()}
    before = {k: a.available for k, a in accounts.items()}
    try:
        debit.add(Side.DEBIT, amount_minor, pending=True)
        credit.add(Side.CREDIT, amount_minor, pending=True)
        check_floors(before, accounts.values())
    except Exception:
        for k, totals in saved.items():
            accounts[k].restore(totals)
        raise


def release_hold(debit: AccountBalance, credit: AccountBalance, amount_minor: int) -> None:
    """Release a hold's whole reservation (post, void, expire): lower both pending totals."""
    debit.add(Side.DEBIT, -amount_minor, pending=True)
    credit.add(Side.CREDIT, -amount_minor, pending=True)


def plan_capture(
    debit: AccountBalance, credit: AccountBalance, held_minor: int, amount_minor: int, currency: str
) -> list[PlannedLeg]:
    """Post `amount_minor` (≤ held) of a hold: release the whole reservation, post the part.

    Available balances only rise (by held − amount), so a granted reservation is always honoured, even
    if the overdraft limit was lowered since it was placed.
    """
    check_transfer_accounts(debit, credit, currency)
    saved = {debit.id: debit.totals(), credit.id: credit.totals()}
    before = {debit.id: debit.available, credit.id: credit.available}
    release_hold(debit, credit, held_minor)
    try:
        return plan_journal(
            {debit.id: debit, credit.id: credit},
            [LegSpec(debit.id, Side.DEBIT, amount_minor), LegSpec(credit.id, Side.CREDIT, amount_minor)],
            available_before=before,
        )
    except Exception:
        debit.restore(saved[debit.id])
        credit.restore(saved[credit.id])
        raise


def capture_amount(held_minor: int, requested: int | None) -> int:
    """How much of a hold to post: all of it by default, or a part (1..held)."""
    if requested is None:
        return held_minor
    amount = check_amount(requested)
    if amount > held_minor:
        raise AmountOutOfRange(
            f"cannot post {amount}: the hold is for {held_minor}",
            amount_minor=amount, held_minor=held_minor,
        )
    return amount


_TRANSITIONS = {HoldStatus.PENDING: {HoldStatus.POSTED, HoldStatus.VOIDED, HoldStatus.EXPIRED}}


def transition(hold_id: str, current: str, target: HoldStatus) -> HoldStatus:
    """pending → posted | voided | expired; anything else is a 409."""
    status = HoldStatus(current)
    if target not in _TRANSITIONS.get(status, set()):
        raise HoldNotPending(
            f"hold {hold_id} is {status.value}; it cannot become {target.value}",
            hold_id=hold_id, status=status.value,
        )
    return target


@dataclass(slots=True)
class TrialBalance:
    """Debits and credits per currency; balanced when they are equal."""

    debits: dict[str, int] = field(default_factory=dict)
    credits: dict[str, int] = field(default_factory=dict)

    def add(self, currency: str, side: str, amount: int) -> None:
        bucket = self.debits if side == Side.DEBIT else self.credits
        bucket[currency] = bucket.get(currency, 0) + amount

    def currencies(self) -> list[str]:
        return sorted(set(self.debits) | set(self.credits))

    def difference(self, currency: str) -> int:
        return self.debits.get(currency, 0) - self.credits.get(currency, 0)
