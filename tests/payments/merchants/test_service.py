"""Merchants as ledger accounts: creation, settlement accounts, status, listing."""

from __future__ import annotations

import pytest

from atrium.ledger import service as ledger
from atrium.payments.merchants import service as merchants
from atrium.payments.merchants.errors import (
    InvalidMerchant,
    MerchantCurrencyNotAccepted,
    MerchantNotActive,
    MerchantNotFound,
    MerchantStatusFinal,
)
from tests.payments.merchants import factories as mf


def test_a_merchant_gets_a_floor_enforced_liability_account_per_currency(session) -> None:
    m = mf.merchant(session, name="  Lucky   Noodles ", category="dining", currencies=("USD", "CNY"))
    assert (m.name, m.category, m.status) == ("Lucky Noodles", "dining", "active")
    assert m.id.startswith("mer_")
    assert [b.currency for b in m.balances] == ["CNY", "USD"]
    for b in m.balances:
        lac = ledger.get_account(session, b.ledger_account_id)
        assert (lac.type, lac.enforce_floor, lac.currency) == ("liability", True, b.currency)
        assert lac.code == merchants.settlement_code(m.id, b.currency)
        assert b.booked_minor == b.available_minor == 0


@pytest.mark.parametrize(
    "override",
    [
        {"category": "casino"},
        {"name": "   "},
        {"name": "x" * 121},
        {"city": "c" * 81},
        {"currencies": ("XXX",)},
        {"currencies": ()},
        {"name": "bad\x00name"},
    ],
)
def test_bad_merchant_details_are_refused(session, override) -> None:
    args = {"name": "Shop", "category": "retail", "city": "Hangzhou", "currencies": ("CNY",)} | override
    with pytest.raises(InvalidMerchant):
        merchants.create_merchant(session, **args)


def test_opening_a_settlement_account_twice_returns_the_same_account(session) -> None:
    m = mf.merchant(session)
    first = merchants.open_settlement_account(session, merchant_id=m.id, currency="USD")
    again = merchants.open_settlement_account(session, merchant_id=m.id, currency="USD")
    assert first.ledger_account_id == again.ledger_account_id
    assert [b.currency for b in merchants.merchant_balance(session, m.id)] == ["CNY", "USD"]


def test_payable_account_needs_an_active_merchant_and_an_accepted_currency(session) -> None:
    m = mf.merchant(session)
    merchant, lac_id = merchants.payable_account(session, merchant_id=m.id, currency="CNY")
    assert merchant.id == m.id and lac_id == m.balances[0].ledger_account_id
    with pytest.raises(MerchantCurrencyNotAccepted):
        merchants.payable_account(session, merchant_id=m.id, currency="USD")
    merchants.set_status(session, merchant_id=m.id, status="suspended")
    with pytest.raises(MerchantNotActive):
        merchants.payable_account(session, merchant_id=m.id, currency="CNY")
    with pytest.raises(MerchantNotFound):
        merchants.payable_account(session, merchant_id="mer_nope", currency="CNY")


def test_a_suspended_merchant_can_be_reactivated_but_a_closed_one_stays_closed(session) -> None:
    m = mf.merchant(session)
    assert merchants.set_status(session, merchant_id=m.id, status="suspended").status == "suspended"
    assert merchants.set_status(session, merchant_id=m.id, status="active").status == "active"
    assert merchants.set_status(session, merchant_id=m.id, status="closed").status == "closed"
    assert merchants.set_status(session, merchant_id=m.id, status="closed").status == "closed"  # a no-op
    with pytest.raises(MerchantStatusFinal):
        merchants.set_status(session, merchant_id=m.id, status="active")
    with pytest.raises(InvalidMerchant):
        merchants.set_status(session, merchant_id=m.id, status="deleted")
    with pytest.raises(MerchantNotActive):
        merchants.open_settlement_account(session, merchant_id=m.id, currency="USD")


def test_listing_filters_and_pages_newest_first(session) -> None:
    made = [
        mf.merchant(session, name=f"Shop {i}", category="retail" if i % 2 else "dining") for i in range(5)
    ]
    merchants.set_status(session, merchant_id=made[0].id, status="suspended")
    page = merchants.list_merchants(session, limit=2)
    seen = [m.id for m in page.items]
    while page.next_cursor:
        page = merchants.list_merchants(session, limit=2, cursor=page.next_cursor)
        seen += [m.id for m in page.items]
    assert seen == [m.id for m in reversed(made)]
    assert {m.id for m in merchants.list_merchants(session, category="retail").items} == {
        made[1].id,
        made[3].id,
    }
    assert [m.id for m in merchants.list_merchants(session, status="suspended").items] == [made[0].id]
    with pytest.raises(Exception) as caught:
        merchants.list_merchants(session, cursor="not-a-cursor!")
    assert getattr(caught.value, "status", None) == 422
