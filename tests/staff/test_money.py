"""Accounts and transfers for staff: masked, paged, one audit record per read, nothing recorded for an
unknown id — and the transfer's status history for each route."""

from __future__ import annotations

import pytest

from atrium.accounts.errors import AccountNotFound
from atrium.kit.ids import new_id
from atrium.payments import service as payments
from atrium.payments.errors import TransferNotFound
from atrium.payments.schemas import ExternalDestination, OwnDestination
from atrium.staff import service
from tests.payments.factories import quiet_rail
from tests.staff.factories import staff
from tests.web.mobile.factories import seed_customer
from tests.web.staff.factories import pay

SECRETS = ("王美丽", "Emma Watson", "Li Lei", "房租", "mei.wang")


def _send(db, customer_id: str, from_account_id: str, to, amount_minor: int) -> str:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return payments.transfer(
            s,
            customer_id=customer_id,
            idempotency_key=new_id("key"),
            from_account_id=from_account_id,
            to=to,
            amount_minor=amount_minor,
            currency="CNY",
            memo="房租 for Li Lei",
            channel="mobile",
        ).id


@pytest.fixture()
def book(db):  # type: ignore[no-untyped-def]
    """Mei pays Emma, moves money to her savings, is paid by Emma, and pays Li Lei at another bank twice
    (settled, then returned)."""
    mei = seed_customer(db, username="mei.wang", display_name="王美丽")
    emma = seed_customer(db, username="emma.w", display_name="Emma Watson", savings=False)
    current, savings = mei.accounts
    ids = {
        "internal": pay(
            db,
            customer_id=mei.customer_id,
            from_account_id=current.id,
            to_account_number=emma.accounts[0].number,
            amount_minor=88_800,
            memo="房租",
        ),
        "own": _send(
            db, mei.customer_id, current.id, OwnDestination(type="own", account_id=savings.id), 10_000
        ),
        "incoming": pay(
            db,
            customer_id=emma.customer_id,
            from_account_id=emma.accounts[0].id,
            to_account_number=current.number,
            amount_minor=5_000,
        ),
        "settled": _send(
            db,
            mei.customer_id,
            current.id,
            ExternalDestination(
                type="external", bank_code="HCBK", account_number="6230000000001234", account_name="Li Lei"
            ),
            20_000,
        ),
    }
    payments.process_rail(db, quiet_rail(db))
    ids["returned"] = _send(
        db,
        mei.customer_id,
        current.id,
        ExternalDestination(
            type="external", bank_code="HCBK", account_number="6230000000001410", account_name="Li Lei"
        ),
        30_000,
    )
    payments.process_rail(db, quiet_rail(db))
    return mei, emma, ids


def _records(db):  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        return service.list_access(s).items


def test_an_account_and_its_entries_are_masked_and_recorded(db, book) -> None:  # type: ignore[no-untyped-def]
    mei, emma, ids = book
    current, savings = mei.accounts
    op = staff(db)
    with db.unit_of_work() as s:
        view = service.view_account(
            s, staff_id=op.id, staff_role="operator", account_id=current.id, reason="complaint #7"
        )
    dumped = view.model_dump_json()
    assert not [x for x in SECRETS if x in dumped]
    assert current.number not in dumped and emma.accounts[0].number not in dumped
    assert view.account.masked_number == current.masked_number and view.holder.masked_name == "王**"
    rows = [
        (
            e.kind,
            e.direction,
            e.amount_minor,
            e.counterparty_masked_name,
            e.counterparty_masked_number,
            e.transfer_id,
        )
        for e in view.entries
    ]
    assert rows == [
        # The returned transfer's hold was voided: it never became an entry.
        ("transfer.interbank", "out", 20_000, "L*** L***", "••1234", ids["settled"]),
        ("transfer.internal", "in", 5_000, "E*** W***", emma.accounts[0].masked_number, ids["incoming"]),
        ("transfer.own", "out", 10_000, "王**", savings.masked_number, ids["own"]),
        # Money out names the payee as the transfer recorded it (payments' own mask of the number).
        (
            "transfer.internal",
            "out",
            88_800,
            "E*** W***",
            "••" + emma.accounts[0].number[-4:],
            ids["internal"],
        ),
        ("deposit", "in", 1_250_000, None, None, None),
    ]
    [record] = _records(db)
    assert record == view.access
    assert (record.action, record.screen, record.customer_id, record.detail, record.reason) == (
        "account.view",
        "account",
        mei.customer_id,
        f"account={current.id}",
        "complaint #7",
    )


def test_entries_page_and_each_page_is_its_own_read(db, book) -> None:  # type: ignore[no-untyped-def]
    mei, _, _ = book
    op = staff(db)
    with db.unit_of_work() as s:
        first = service.view_account(
            s, staff_id=op.id, staff_role="operator", account_id=mei.accounts[0].id, limit=3
        )
        second = service.view_account(
            s,
            staff_id=op.id,
            staff_role="operator",
            account_id=mei.accounts[0].id,
            limit=3,
            cursor=first.next_cursor,
        )
    assert len(first.entries) == 3 and len(second.entries) == 2 and second.next_cursor is None
    assert [r.detail.endswith("page>1") for r in _records(db)] == [True, False]


def test_an_unknown_account_or_transfer_records_nothing(db, book) -> None:  # type: ignore[no-untyped-def]
    op = staff(db)
    with pytest.raises(AccountNotFound), db.unit_of_work() as s:
        service.view_account(s, staff_id=op.id, staff_role="operator", account_id="acc_nobody")
    with pytest.raises(TransferNotFound), db.unit_of_work() as s:
        service.view_transfer(s, staff_id=op.id, staff_role="operator", transfer_id="trf_nobody")
    assert _records(db) == []


@pytest.mark.parametrize(
    ("which", "statuses", "code"),
    [
        ("internal", ["completed"], None),
        ("own", ["completed"], None),
        ("settled", ["pending", "settled"], None),
        ("returned", ["pending", "returned"], "AC04"),
    ],
)
def test_a_transfer_and_its_history(db, book, which: str, statuses: list[str], code: str | None) -> None:  # type: ignore[no-untyped-def]
    mei, _, ids = book
    op = staff(db)
    with db.unit_of_work() as s:
        view = service.view_transfer(s, staff_id=op.id, staff_role="operator", transfer_id=ids[which])
    assert [h.status for h in view.history] == statuses
    assert view.history[-1].code == code
    assert [h.at for h in view.history] == sorted(h.at for h in view.history)
    assert view.history[0].evidence in (view.journal_id, view.hold_id) and view.history[0].evidence
    assert view.owner.id == mei.customer_id and view.owner.masked_name == "王**"
    dumped = view.model_dump_json()
    assert not [x for x in SECRETS if x in dumped]
    [record] = _records(db)
    assert (record.action, record.screen, record.customer_id, record.detail) == (
        "transfer.view",
        "transfer",
        mei.customer_id,
        f"transfer={ids[which]}",
    )
