"""Saved payees: save, list, rename, soft delete, per-customer visibility, paying a payee by id."""

from __future__ import annotations

import pytest

from atrium.accounts import service as accounts
from atrium.accounts.errors import AccountClosed
from atrium.payments import service
from atrium.payments.errors import (
    CurrencyNotCleared,
    InvalidPaymentDetails,
    OwnAccountPayee,
    PayeeExists,
    PayeeNotFound,
    UnknownBank,
    UnknownDestinationAccount,
)
from atrium.payments.schemas import PayeeCreate, PayeeDestination
from tests.payments import factories as f


def save(db, customer_id: str, **fields):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return service.save_payee(s, customer_id=customer_id, data=PayeeCreate(**fields))


def external(**over):  # type: ignore[no-untyped-def]
    return {
        "type": "external",
        "bank_code": "hcbk",
        "account_number": "6230 0000 0000 1234",
        "account_name": " Li  Lei ",
        "nickname": "Landlord",
    } | over


def test_save_list_rename_and_delete(db, world) -> None:
    landlord = save(db, world.alice, **external())
    assert (landlord.bank_code, landlord.account_number, landlord.account_name) == (
        "HCBK",
        "6230000000001234",
        "Li Lei",
    )
    assert landlord.bank_name == "Harbour City Bank" and landlord.masked_account_number == "••1234"
    bob = save(db, world.alice, type="atrium", account_number=world.bob_cny.number, account_name="Zhang San")
    assert (bob.type, bob.bank_code, bob.nickname) == ("atrium", "ATRM", "Zhang San")
    with db.unit_of_work() as s:
        renamed = service.rename_payee(s, customer_id=world.alice, payee_id=landlord.id, nickname="Mr Li")
        assert renamed.nickname == "Mr Li"
        assert [p.nickname for p in service.list_payees(s, customer_id=world.alice)] == ["Mr Li", "Zhang San"]
        service.delete_payee(s, customer_id=world.alice, payee_id=bob.id)
        assert [p.id for p in service.list_payees(s, customer_id=world.alice)] == [landlord.id]
        with pytest.raises(PayeeNotFound):
            service.get_payee(s, customer_id=world.alice, payee_id=bob.id)
    # A deleted payee may be saved again.
    assert save(
        db, world.alice, type="atrium", account_number=world.bob_cny.number, account_name="Zhang San"
    ).id


def test_a_payee_is_saved_once(db, world) -> None:
    save(db, world.alice, **external())
    with pytest.raises(PayeeExists):
        save(db, world.alice, **external(account_number="6230000000001234", nickname="again"))
    # Another customer may save the same account.
    assert save(db, world.bob, **external())


def test_someone_elses_payee_does_not_exist_for_you(db, world) -> None:
    mine = save(db, world.alice, **external())
    with db.unit_of_work() as s:
        with pytest.raises(PayeeNotFound):
            service.get_payee(s, customer_id=world.bob, payee_id=mine.id)
        with pytest.raises(PayeeNotFound):
            service.rename_payee(s, customer_id=world.bob, payee_id=mine.id, nickname="stolen")
        with pytest.raises(PayeeNotFound):
            service.delete_payee(s, customer_id=world.bob, payee_id=mine.id)
        assert service.list_payees(s, customer_id=world.bob) == []
    with db.session() as s:
        assert service.get_payee(s, customer_id=world.alice, payee_id=mine.id).nickname == "Landlord"


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        (external(bank_code="NOPE"), UnknownBank),
        (external(bank_code="ATRM"), UnknownBank),
        (external(bank_code=None), InvalidPaymentDetails),
        (external(account_number="12ab"), InvalidPaymentDetails),
        (external(account_name="   "), InvalidPaymentDetails),
    ],
)
def test_bad_payee_details_are_refused(db, world, fields, error) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error):
        save(db, world.alice, **fields)
    assert f.snapshot(db, []).payees == 0


def test_atrium_payees_must_be_someone_elses_open_account(db, world) -> None:
    with pytest.raises(OwnAccountPayee):
        save(db, world.alice, type="atrium", account_number=world.alice_savings.number, account_name="me")
    with pytest.raises(UnknownDestinationAccount):
        save(
            db,
            world.alice,
            type="atrium",
            account_number=f.unused_number(world.bob_cny.number),
            account_name="x",
        )
    with db.unit_of_work() as s:
        accounts.close_account(s, customer_id=world.bob, account_id=world.bob_cny.id)
    with pytest.raises(AccountClosed):
        save(db, world.alice, type="atrium", account_number=world.bob_cny.number, account_name="Zhang San")


def _pay_payee(db, w, payee_id: str, amount: int, key: str, customer=None, source=None):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return service.transfer(
            s,
            customer_id=customer or w.alice,
            idempotency_key=key,
            from_account_id=source or w.alice_cny.id,
            to=PayeeDestination(type="payee", payee_id=payee_id),
            amount_minor=amount,
            currency="CNY",
            channel="mobile",
        )


def test_paying_a_saved_payee(db, world, rail) -> None:
    bob = save(db, world.alice, type="atrium", account_number=world.bob_cny.number, account_name="Zhang San")
    landlord = save(db, world.alice, **external())
    to_bob = _pay_payee(db, world, bob.id, 5_000, "payee-key-1")
    assert (to_bob.kind, to_bob.status, to_bob.to.type, to_bob.to.payee_id) == (
        "internal",
        "completed",
        "payee",
        bob.id,
    )
    assert to_bob.to.display == "Zhang San"
    rent = _pay_payee(db, world, landlord.id, 7_000, "payee-key-2")
    assert (rent.kind, rent.status, rent.to.bank_code, rent.to.name) == (
        "interbank",
        "pending",
        "HCBK",
        "Li Lei",
    )
    assert service.process_rail(db, rail).settled == 1
    with db.session() as s:
        assert f.balance(s, world.bob_cny.id)[0] == 5_000
        assert f.balance(s, world.alice_cny.id)[0] == 100_000 - 12_000
    assert f.ledger_ok(db)


def test_a_deleted_or_foreign_payee_cannot_be_paid(db, world) -> None:
    landlord = save(db, world.alice, **external())
    with db.unit_of_work() as s:
        f.fund(s, world.bob_cny, 10_000)
    before = f.snapshot(db, world.ids())
    with pytest.raises(PayeeNotFound):
        _pay_payee(db, world, landlord.id, 100, "foreign-1", customer=world.bob, source=world.bob_cny.id)
    with db.unit_of_work() as s:
        service.delete_payee(s, customer_id=world.alice, payee_id=landlord.id)
    with pytest.raises(PayeeNotFound):
        _pay_payee(db, world, landlord.id, 100, "deleted-1")
    assert f.snapshot(db, world.ids()) == before


def test_a_bank_that_does_not_clear_the_currency_is_refused(db, world) -> None:
    payee = save(db, world.alice, **external(bank_code="JRCB"))
    with pytest.raises(CurrencyNotCleared), db.unit_of_work() as s:
        service.transfer(
            s,
            customer_id=world.alice,
            idempotency_key="usd-1",
            from_account_id=world.alice_usd.id,
            to=PayeeDestination(type="payee", payee_id=payee.id),
            amount_minor=100,
            currency="USD",
            channel="mobile",
        )
