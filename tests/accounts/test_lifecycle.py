"""Opening, finding and closing accounts through the service (with the real ledger underneath)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from atrium.accounts import domain, service
from atrium.accounts.errors import (
    AccountClosed,
    AccountNotEmpty,
    AccountNotFound,
    InvalidAccountNumber,
    InvalidAccountRequest,
    TooManyAccounts,
)
from atrium.events.models import OutboxEvent
from atrium.kit import clock
from atrium.kit.ids import new_id
from atrium.ledger import service as ledger
from atrium.ledger.errors import InsufficientFunds
from tests.accounts import factories as f


def _events(session, type_: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [e.payload for e in session.scalars(select(OutboxEvent).where(OutboxEvent.type == type_))]


def test_open_creates_a_floor_enforced_liability_and_emits_account_opened(session) -> None:
    c = f.customer(session)
    acct = f.account(session, c.id, "savings", "USD", nickname="  Rainy  day ")
    assert acct.status == "open" and acct.product == "savings" and acct.currency == "USD"
    assert acct.nickname == "Rainy day"
    assert domain.luhn_valid(acct.number) and acct.number.startswith(domain.BANK_BIN)
    assert acct.masked_number == f"{acct.number[:4]} **** **** {acct.number[-4:]}"
    assert acct.booked_minor == acct.available_minor == 0
    assert acct.interest_rate_bp == 150
    la = ledger.get_account(session, acct.ledger_account_id)
    assert (la.type, la.currency, la.enforce_floor, la.overdraft_limit_minor) == ("liability", "USD", True, 0)
    assert _events(session, "AccountOpened")[0] | {"id": None, "occurred_at": None} == {
        "id": None,
        "occurred_at": None,
        "account_id": acct.id,
        "customer_id": c.id,
        "product": "savings",
        "currency": "USD",
    }
    # The floor holds: money cannot leave an empty deposit account.
    with pytest.raises(InsufficientFunds):
        f.withdraw(session, acct, 1)


def test_numbers_are_unique(session) -> None:
    c = f.customer(session)
    numbers = {f.account(session, c.id).number for _ in range(12)}
    assert len(numbers) == 12


@pytest.mark.parametrize(
    ("product", "currency", "match"),
    [
        ("gold", "CNY", "unknown product"),
        ("savings", "JPY", "not JPY"),
        ("current", "XXX", "not XXX"),
    ],
)
def test_open_refuses_unknown_products_and_currencies(session, product, currency, match) -> None:
    c = f.customer(session)
    with pytest.raises(InvalidAccountRequest, match=match):
        f.account(session, c.id, product, currency)


def test_open_needs_an_active_customer_and_caps_open_accounts(session) -> None:
    with pytest.raises(InvalidAccountRequest):
        f.account(session, "cus_nobody")
    c = f.customer(session)
    for _ in range(domain.MAX_OPEN_ACCOUNTS_PER_CUSTOMER):
        f.account(session, c.id)
    with pytest.raises(TooManyAccounts):
        f.account(session, c.id)


def test_balances_come_from_the_ledger(session) -> None:
    c = f.customer(session)
    acct = f.account(session, c.id)
    f.deposit(session, acct, 10_000)
    ledger.place_hold(
        session,
        idempotency_key=new_id("k"),
        debit_account_id=acct.ledger_account_id,
        credit_account_id=f.settlement(session),
        amount_minor=2_500,
        currency="CNY",
        expires_at=clock.now() + timedelta(days=1),
        kind="card",
    )
    got = service.get_owned(session, customer_id=c.id, account_id=acct.id)
    assert (got.booked_minor, got.available_minor) == (10_000, 7_500)


def test_get_owned_hides_other_customers_accounts(session) -> None:
    alice, bob = f.customer(session), f.customer(session)
    acct = f.account(session, alice.id)
    assert service.get_owned(session, customer_id=alice.id, account_id=acct.id).id == acct.id
    with pytest.raises(AccountNotFound) as other:
        service.get_owned(session, customer_id=bob.id, account_id=acct.id)
    with pytest.raises(AccountNotFound) as missing:
        service.get_owned(session, customer_id=bob.id, account_id="acc_missing")
    # Someone else's account and a missing one are indistinguishable.
    assert (
        (other.value.status, other.value.detail)
        == (missing.value.status, missing.value.detail)
        == (404, "no such account")
    )


def test_list_for_customer_is_oldest_first_and_only_theirs(session, frozen) -> None:
    alice, bob = f.customer(session), f.customer(session)
    a1 = f.account(session, alice.id)
    frozen.set(frozen.now() + timedelta(minutes=1))
    a2 = f.account(session, alice.id, "savings")
    f.account(session, bob.id)
    assert [a.id for a in service.list_for_customer(session, alice.id)] == [a1.id, a2.id]


def test_get_by_number_tells_a_payer_only_what_they_may_know(session) -> None:
    c = f.customer(session, display_name="李小明")
    acct = f.account(session, c.id, currency="USD")
    spaced = " ".join(acct.number[i : i + 4] for i in range(0, 19, 4))
    entry = service.get_by_number(session, spaced)
    assert entry.model_dump() == {
        "id": acct.id,
        "currency": "USD",
        "status": "open",
        "masked_number": acct.masked_number,
        "masked_owner_name": "**明",
    }
    with pytest.raises(InvalidAccountNumber, match="typo"):
        service.get_by_number(session, acct.number[:-1] + str((int(acct.number[-1]) + 1) % 10))
    unknown = domain.new_account_number(lambda n: "9" * n)
    with pytest.raises(AccountNotFound):
        service.get_by_number(session, unknown)


def test_close_refuses_money_and_names_the_balance(session) -> None:
    c = f.customer(session)
    acct = f.account(session, c.id)
    f.deposit(session, acct, 12_345)
    with pytest.raises(AccountNotEmpty, match=r"123\.45 CNY") as err:
        service.close_account(session, customer_id=c.id, account_id=acct.id)
    assert err.value.status == 422 and err.value.extra["booked_minor"] == 12_345


def test_close_refuses_pending_holds(session) -> None:
    c = f.customer(session)
    acct = f.account(session, c.id)
    f.deposit(session, acct, 500)
    hold = ledger.place_hold(
        session,
        idempotency_key=new_id("k"),
        debit_account_id=acct.ledger_account_id,
        credit_account_id=f.settlement(session),
        amount_minor=500,
        currency="CNY",
        expires_at=clock.now() + timedelta(days=1),
        kind="card",
    )
    ledger.post_hold(session, hold_id=hold.id, idempotency_key=new_id("k"), amount_minor=200)
    got = service.get_owned(session, customer_id=c.id, account_id=acct.id)
    assert got.booked_minor == 300
    f.withdraw(session, acct, 300)
    incoming = ledger.place_hold(
        session,
        idempotency_key=new_id("k"),
        debit_account_id=f.settlement(session),
        credit_account_id=acct.ledger_account_id,
        amount_minor=900,
        currency="CNY",
        expires_at=clock.now() + timedelta(days=1),
        kind="incoming",
    )
    with pytest.raises(AccountNotEmpty, match="pending") as err:
        service.close_account(session, customer_id=c.id, account_id=acct.id)
    assert err.value.extra["pending_minor"] == 900
    ledger.void_hold(session, hold_id=incoming.id, idempotency_key=new_id("k"))
    assert service.close_account(session, customer_id=c.id, account_id=acct.id).status == "closed"


def test_close_at_zero_emits_account_closed_and_is_idempotent(session) -> None:
    c = f.customer(session)
    acct = f.account(session, c.id)
    f.deposit(session, acct, 700)
    f.withdraw(session, acct, 700)
    closed = service.close_account(session, customer_id=c.id, account_id=acct.id)
    assert closed.status == "closed" and closed.closed_at is not None
    again = service.close_account(session, customer_id=c.id, account_id=acct.id)
    assert again.closed_at == closed.closed_at
    assert [e["account_id"] for e in _events(session, "AccountClosed")] == [acct.id]
    # A closed account can neither send nor receive: payments lock it through lock_open.
    with pytest.raises(AccountClosed):
        service.lock_open(session, [acct.id])
    assert service.get_by_number(session, acct.number).status == "closed"


def test_close_is_per_object_authorised(session) -> None:
    alice, bob = f.customer(session), f.customer(session)
    acct = f.account(session, alice.id)
    with pytest.raises(AccountNotFound):
        service.close_account(session, customer_id=bob.id, account_id=acct.id)
    assert service.get_by_id(session, acct.id).status == "open"


def test_lock_open_returns_open_accounts_in_the_callers_order(session) -> None:
    c = f.customer(session)
    a, b = f.account(session, c.id), f.account(session, c.id, currency="USD")
    got = service.lock_open(session, [b.id, a.id])
    assert list(got) == [b.id, a.id] and got[a.id].currency == "CNY"
    with pytest.raises(AccountNotFound):
        service.lock_open(session, [a.id, "acc_missing"])


def test_rename(session) -> None:
    c = f.customer(session)
    acct = f.account(session, c.id)
    assert (
        service.rename_account(session, customer_id=c.id, account_id=acct.id, nickname="工资卡").nickname
        == "工资卡"
    )
    assert (
        service.rename_account(session, customer_id=c.id, account_id=acct.id, nickname=" ").nickname is None
    )
    with pytest.raises(InvalidAccountRequest):
        service.rename_account(session, customer_id=c.id, account_id=acct.id, nickname="a\tb\x07")
