"""Own and internal transfers through the service: money moves atomically, or nothing changes at all."""

from __future__ import annotations

import pytest

from atrium.accounts import service as accounts
from atrium.accounts.errors import AccountClosed, AccountNotFound, InvalidAccountNumber
from atrium.kit.errors import IdempotencyConflict
from atrium.kit.money import MAX_AMOUNT_MINOR
from atrium.limits import service as limits
from atrium.limits.errors import LimitExceeded, PaymentSwitchOff
from atrium.payments import service
from atrium.payments.errors import (
    CurrencyMismatch,
    InsufficientFunds,
    InvalidPaymentDetails,
    SameAccount,
    UnknownDestinationAccount,
)
from atrium.payments.schemas import AtriumDestination, OwnDestination
from tests.payments import factories as f


def pay(db, w, to, amount=1_000, *, key="key-0001", currency="CNY", memo="", customer=None, source=None):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return service.transfer(
            s,
            customer_id=customer or w.alice,
            idempotency_key=key,
            from_account_id=source or w.alice_cny.id,
            to=to,
            amount_minor=amount,
            currency=currency,
            memo=memo,
            channel="mobile",
        )


def test_own_transfer_completes_at_once_and_moves_the_money(db, world) -> None:
    t = pay(db, world, OwnDestination(type="own", account_id=world.alice_savings.id), 25_000, memo="save")
    assert (t.kind, t.status, t.to.type, t.to.account_id) == (
        "own",
        "completed",
        "own",
        world.alice_savings.id,
    )
    assert t.journal_id and t.settled_at is not None and t.memo == "save"
    with db.session() as s:
        assert f.balance(s, world.alice_cny.id) == (75_000, 75_000)
        assert f.balance(s, world.alice_savings.id) == (25_000, 25_000)
    [event] = f.events(db, "TransferCompleted")
    assert event["transfer_id"] == t.id and event["kind"] == "own" and event["amount_minor"] == 25_000
    assert f.ledger_ok(db)


def test_transfer_to_another_customer_by_number_is_internal(db, world) -> None:
    t = pay(db, world, AtriumDestination(type="atrium", account_number=world.bob_cny.number), 30_000)
    assert (t.kind, t.status, t.to.type) == ("internal", "completed", "atrium")
    # Bob's account id is not Alice's to see; the last digits of the number she typed are.
    assert t.to.account_id is None
    assert t.to.masked_account_number == "••" + world.bob_cny.number[-4:]
    assert t.to.name == "*三"  # enough of Bob's name to confirm the payee, no more
    with db.session() as s:
        assert f.balance(s, world.alice_cny.id)[0] == 70_000
        assert f.balance(s, world.bob_cny.id)[0] == 30_000
        usage = limits.usage(s, world.alice, channel="mobile", currency="CNY")
    internal = next(u for u in usage if u.method == "internal_transfer")
    assert internal.daily_used_minor == 30_000
    assert f.ledger_ok(db)


def test_paying_own_account_by_number_counts_as_an_own_transfer(db, world) -> None:
    t = pay(db, world, AtriumDestination(type="atrium", account_number=world.alice_savings.number), 500)
    assert t.kind == "own"


def test_a_retried_call_with_the_same_key_pays_once(db, world) -> None:
    to = AtriumDestination(type="atrium", account_number=world.bob_cny.number)
    first = pay(db, world, to, 10_000, key="same-key-1")
    again = pay(db, world, to, 10_000, key="same-key-1")
    assert again.id == first.id
    with db.session() as s:
        assert f.balance(s, world.bob_cny.id)[0] == 10_000
    assert len(f.events(db, "TransferCompleted")) == 1


def test_the_same_key_with_another_request_is_a_conflict(db, world) -> None:
    to = AtriumDestination(type="atrium", account_number=world.bob_cny.number)
    pay(db, world, to, 10_000, key="same-key-2")
    before = f.snapshot(db, world.ids())
    with pytest.raises(IdempotencyConflict):
        pay(db, world, to, 20_000, key="same-key-2")
    assert f.snapshot(db, world.ids()) == before


def test_keys_are_per_customer(db, world) -> None:
    with db.unit_of_work() as s:
        f.fund(s, world.bob_cny, 5_000)
    a = pay(db, world, OwnDestination(type="own", account_id=world.alice_savings.id), 100, key="shared-key")
    b = pay(
        db,
        world,
        AtriumDestination(type="atrium", account_number=world.alice_cny.number),
        100,
        key="shared-key",
        customer=world.bob,
        source=world.bob_cny.id,
    )
    assert a.id != b.id


@pytest.mark.parametrize(
    ("amount", "currency", "error"),
    [
        (0, "CNY", InvalidPaymentDetails),
        (-5, "CNY", InvalidPaymentDetails),
        (MAX_AMOUNT_MINOR + 1, "CNY", InvalidPaymentDetails),
        (100, "XXX", InvalidPaymentDetails),
        (100, "USD", CurrencyMismatch),  # the CNY account cannot pay USD
        (100_001, "CNY", InsufficientFunds),
    ],
)
def test_bad_amounts_and_currencies_change_nothing(db, world, amount, currency, error) -> None:  # type: ignore[no-untyped-def]
    before = f.snapshot(db, world.ids())
    with pytest.raises(error):
        pay(
            db,
            world,
            AtriumDestination(type="atrium", account_number=world.bob_cny.number),
            amount,
            currency=currency,
        )
    assert f.snapshot(db, world.ids()) == before
    assert f.ledger_ok(db)


def test_insufficient_funds_names_the_available_balance(db, world) -> None:
    with pytest.raises(InsufficientFunds) as exc:
        pay(db, world, OwnDestination(type="own", account_id=world.alice_savings.id), 100_001)
    assert exc.value.extra["available_minor"] == 100_000
    assert exc.value.extra["account_id"] == world.alice_cny.id


def test_currency_mismatch_with_the_destination_is_refused(db, world) -> None:
    before = f.snapshot(db, world.ids())
    with pytest.raises(CurrencyMismatch):
        pay(db, world, OwnDestination(type="own", account_id=world.alice_usd.id), 100)
    assert f.snapshot(db, world.ids()) == before


def test_unknown_and_foreign_accounts_are_refused(db, world) -> None:
    before = f.snapshot(db, world.ids())
    with pytest.raises(AccountNotFound):  # Bob's account is not Alice's to pay from
        pay(
            db,
            world,
            OwnDestination(type="own", account_id=world.alice_savings.id),
            100,
            source=world.bob_cny.id,
        )
    with pytest.raises(AccountNotFound):  # nor an "own" destination
        pay(db, world, OwnDestination(type="own", account_id=world.bob_cny.id), 100)
    with pytest.raises(AccountNotFound):
        pay(db, world, OwnDestination(type="own", account_id="acc_nope"), 100)
    with pytest.raises(UnknownDestinationAccount):
        pay(
            db,
            world,
            AtriumDestination(type="atrium", account_number=f.unused_number(world.bob_cny.number)),
            100,
        )
    with pytest.raises(InvalidAccountNumber):  # a typo: the check digit does not match
        pay(db, world, AtriumDestination(type="atrium", account_number=f.typo(world.bob_cny.number)), 100)
    with pytest.raises(SameAccount):
        pay(db, world, OwnDestination(type="own", account_id=world.alice_cny.id), 100)
    assert f.snapshot(db, world.ids()) == before


def test_closed_accounts_neither_send_nor_receive(db, world) -> None:
    with db.unit_of_work() as s:
        accounts.close_account(s, customer_id=world.bob, account_id=world.bob_cny.id)
        accounts.close_account(s, customer_id=world.alice, account_id=world.alice_savings.id)
    before = f.snapshot(db, world.ids())
    with pytest.raises(AccountClosed):
        pay(db, world, AtriumDestination(type="atrium", account_number=world.bob_cny.number), 100)
    with pytest.raises(AccountClosed):
        pay(
            db,
            world,
            OwnDestination(type="own", account_id=world.alice_cny.id),
            100,
            source=world.alice_savings.id,
        )
    assert f.snapshot(db, world.ids()) == before


def test_limits_are_checked_and_name_what_is_left(db, world) -> None:
    with db.unit_of_work() as s:
        f.fund(s, world.alice_cny, 10_000_000)
        limits.set_own_limit(
            s,
            customer_id=world.alice,
            method="internal_transfer",
            currency="CNY",
            per_transaction_minor=None,
            daily_minor=50_000,
        )
    to = AtriumDestination(type="atrium", account_number=world.bob_cny.number)
    pay(db, world, to, 40_000, key="limit-key-1")
    before = f.snapshot(db, world.ids())
    with pytest.raises(LimitExceeded) as exc:
        pay(db, world, to, 20_000, key="limit-key-2")
    assert exc.value.extra["limit"] == "daily" and exc.value.extra["remaining_minor"] == 10_000
    assert f.snapshot(db, world.ids()) == before
    with db.unit_of_work() as s:
        limits.set_switches(s, customer_id=world.alice, changes={"online_payments": False})
    with pytest.raises(PaymentSwitchOff):
        pay(db, world, to, 1_000, key="limit-key-3")


def test_a_refusal_leaves_the_callers_transaction_clean(db, world) -> None:
    """A standing order job catches the refusal and carries on in the same transaction: nothing of the
    refused transfer (row, limit usage) may remain."""
    to = AtriumDestination(type="atrium", account_number=world.bob_cny.number)
    with db.unit_of_work() as s:
        with pytest.raises(InsufficientFunds):
            service.transfer(
                s,
                customer_id=world.alice,
                idempotency_key="caught-1",
                from_account_id=world.alice_cny.id,
                to=to,
                amount_minor=500_000,
                currency="CNY",
                channel="scheduled",
            )
        ok = service.transfer(
            s,
            customer_id=world.alice,
            idempotency_key="caught-2",
            from_account_id=world.alice_cny.id,
            to=to,
            amount_minor=1_000,
            currency="CNY",
            channel="scheduled",
        )
    with db.session() as s:
        page = service.list_transfers(s, customer_id=world.alice)
        usage = limits.usage(s, world.alice, channel="scheduled", currency="CNY")
    assert [t.id for t in page.items] == [ok.id]
    assert next(u for u in usage if u.method == "internal_transfer").daily_used_minor == 1_000
    assert f.ledger_ok(db)


def test_listing_is_newest_first_with_a_cursor_and_per_customer(db, world) -> None:
    ids = [
        pay(
            db, world, OwnDestination(type="own", account_id=world.alice_savings.id), 100, key=f"list-{i:04}"
        ).id
        for i in range(5)
    ]
    with db.session() as s:
        first = service.list_transfers(s, customer_id=world.alice, limit=3)
        second = service.list_transfers(s, customer_id=world.alice, limit=3, cursor=first.next_cursor)
        bobs = service.list_transfers(s, customer_id=world.bob)
        one = service.get_transfer(s, customer_id=world.alice, transfer_id=ids[2])
    assert [t.id for t in first.items + second.items] == list(reversed(ids))
    assert second.next_cursor is None
    assert bobs.items == []
    assert one.id == ids[2]


def test_existing_ids_reports_which_transfers_committed(db, world) -> None:
    t = pay(db, world, OwnDestination(type="own", account_id=world.alice_savings.id), 100, key="exists-01")
    with db.session() as s:
        assert service.existing_ids(s, [t.id, "trf_never"]) == {t.id}


@pytest.mark.parametrize("key", ["", "k" * 101, "bad\nkey"])
def test_a_malformed_idempotency_key_is_refused(db, world, key: str) -> None:
    with pytest.raises(InvalidPaymentDetails):
        pay(db, world, OwnDestination(type="own", account_id=world.alice_savings.id), 100, key=key)
