"""Staff access to customer data: masked, and recorded before it is shown."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from atrium.kit.errors import ValidationFailed
from atrium.staff import service
from atrium.staff.domain import DEFAULT_REASON
from atrium.staff.errors import CustomerNotFound, InvalidReason
from tests.staff.factories import customer, give_kyc, staff


def test_view_customer_records_the_access_and_masks_the_data(db) -> None:  # type: ignore[no-untyped-def]
    op = staff(db)
    li = customer(db, "li.si", "李四")
    with db.unit_of_work() as s:
        view = service.view_customer(
            s, staff_id=op.id, staff_role="operator", customer_id=li.id, reason="fraud investigation"
        )
    assert view.customer.masked_name == "李*"
    assert view.customer.masked_username == "li***"
    assert "李四" not in view.model_dump_json() and "li.si" not in view.model_dump_json()
    assert view.section.name == "overview"
    assert [a.product for a in view.section.accounts] == ["current"]
    assert view.section.accounts[0].masked_number.startswith("6222 ****")
    assert view.section.transfers == []
    with db.read_session() as s:
        page = service.list_access(s)
    [record] = page.items
    assert record == view.access
    assert (record.staff_id, record.staff_role, record.action, record.customer_id, record.reason) == (
        op.id,
        "operator",
        "customer.view",
        li.id,
        "fraud investigation",
    )
    assert (record.screen, record.detail, record.reason_category) == ("customer.360", "section=overview", "")


def test_the_default_reason_and_an_unknown_customer(db) -> None:  # type: ignore[no-untyped-def]
    op = staff(db)
    li = customer(db, "li.si", "李四")
    with db.unit_of_work() as s:
        assert (
            service.view_customer(s, staff_id=op.id, staff_role="operator", customer_id=li.id).access.reason
            == DEFAULT_REASON
        )
        with pytest.raises(CustomerNotFound):
            service.view_customer(s, staff_id=op.id, staff_role="operator", customer_id="cus_nobody")
    with db.read_session() as s:
        assert len(service.list_access(s).items) == 1  # probing an unknown id reads nothing, records nothing


def test_a_bad_reason_refuses_the_read_and_records_nothing(db) -> None:  # type: ignore[no-untyped-def]
    op = staff(db)
    li = customer(db, "li.si", "李四")
    with pytest.raises(InvalidReason), db.unit_of_work() as s:
        service.view_customer(s, staff_id=op.id, staff_role="operator", customer_id=li.id, reason="x" * 201)
    with db.read_session() as s:
        assert service.list_access(s).items == []


def test_search_masks_records_a_count_not_the_words_and_pages(db) -> None:  # type: ignore[no-untyped-def]
    op = staff(db)
    people = [customer(db, f"wang{i}", f"王小{i}", account=False) for i in range(5)]
    customer(db, "emma", "Emma Wang", account=False)
    customer(db, "zhao", "赵六", account=False)
    with db.unit_of_work() as s:
        first = service.search_customers(s, staff_id=op.id, staff_role="operator", text="WANG", limit=4)
        # Username prefix "wang" (any case) and name containing "wang": five 王 + Emma Wang, newest first.
        assert [c.masked_name for c in first.items] == ["E*** W***", "王**", "王**", "王**"]
        assert first.next_cursor is not None
        rest = service.search_customers(
            s, staff_id=op.id, staff_role="operator", text="wang", cursor=first.next_cursor, limit=4
        )
        assert [c.id for c in rest.items] == [people[1].id, people[0].id] and rest.next_cursor is None
        by_name = service.search_customers(s, staff_id=op.id, staff_role="operator", text="小3")
        assert [c.id for c in by_name.items] == [people[3].id]
        nothing = service.search_customers(s, staff_id=op.id, staff_role="operator", text="   ")
        assert nothing.items == [] and nothing.access is None
    with db.read_session() as s:
        records = service.list_access(s, action="customer.search").items
    assert [r.detail for r in records] == ["shown=1", "shown=2 page>1", "shown=4"]
    assert all(r.customer_id is None and r.screen == "customer.search" for r in records)
    assert not any("wang" in (r.detail + r.reason).lower() for r in records)


def test_search_treats_like_wildcards_as_text(db) -> None:  # type: ignore[no-untyped-def]
    op = staff(db)
    underscore = customer(db, "a_b", "Percent 100%", account=False)
    customer(db, "axb", "Plain", account=False)
    with db.unit_of_work() as s:
        found = service.search_customers(s, staff_id=op.id, staff_role="operator", text="a_")
        assert [c.id for c in found.items] == [underscore.id]  # "_" is not "any character"
        found = service.search_customers(s, staff_id=op.id, staff_role="operator", text="%")
        assert [c.id for c in found.items] == [underscore.id]


def test_list_access_filters_and_pages(db) -> None:  # type: ignore[no-untyped-def]
    op = staff(db)
    admin = staff(db, "administrator", "admin")
    a, b = customer(db, "a1", "甲一"), customer(db, "b1", "乙一")
    with db.unit_of_work() as s:
        for who, cust in ((op, a), (op, b), (admin, a), (admin, a)):
            service.view_customer(s, staff_id=who.id, staff_role="x", customer_id=cust.id)
    with db.read_session() as s:
        assert len(service.list_access(s).items) == 4
        assert len(service.list_access(s, customer_id=a.id).items) == 3
        assert len(service.list_access(s, staff_id=op.id).items) == 2
        assert len(service.list_access(s, staff_id=admin.id, customer_id=b.id).items) == 0
        first = service.list_access(s, limit=3)
        second = service.list_access(s, limit=3, cursor=first.next_cursor)
        assert len(first.items) == 3 and len(second.items) == 1 and second.next_cursor is None
        assert first.items[0].occurred_at >= first.items[-1].occurred_at
        with pytest.raises(ValidationFailed):
            service.list_access(s, cursor="not a cursor")
        with pytest.raises(ValidationFailed):
            service.list_access(s, limit=0)


def test_record_access_refuses_unknown_actions_and_long_details(db) -> None:  # type: ignore[no-untyped-def]
    op = staff(db)
    with db.unit_of_work() as s:
        with pytest.raises(ValidationFailed):
            service.record_access(s, staff_id=op.id, staff_role="operator", action="customer.delete")
        with pytest.raises(ValidationFailed):
            service.record_access(
                s, staff_id=op.id, staff_role="operator", action="customer.view", detail="x" * 201
            )
        with pytest.raises(ValidationFailed):
            service.record_access(
                s, staff_id=op.id, staff_role="operator", action="customer.view", screen="x"
            )
        with pytest.raises(ValidationFailed):
            service.record_access(
                s, staff_id=op.id, staff_role="operator", action="customer.unmask",
                reason_category="curiosity",
            )


@pytest.mark.postgres
def test_audit_records_are_append_only_in_postgresql(db) -> None:  # type: ignore[no-untyped-def]
    if db.is_sqlite:
        pytest.skip("the append-only trigger is PostgreSQL's")
    op = staff(db)
    li = customer(db, "li.si", "李四")
    give_kyc(db, li.id)
    with db.unit_of_work() as s:
        service.view_customer(s, staff_id=op.id, staff_role="operator", customer_id=li.id)
        service.reveal_field(
            s, staff_id=op.id, staff_role="risk_analyst", customer_id=li.id, field="phone",
            category="fraud_investigation", reason="case 2024-117 card fraud",
        )
    for statement in (
        "UPDATE staff_access_audit SET reason = 'nothing to see'",
        "UPDATE staff_access_audit SET detail = 'field=address' WHERE action = 'customer.unmask'",
        "UPDATE staff_access_audit SET reason_category = '', screen = ''",
        "DELETE FROM staff_access_audit WHERE action = 'customer.unmask'",
        "DELETE FROM staff_access_audit",
    ):
        with pytest.raises(DBAPIError, match="append-only"), db.unit_of_work() as s:
            s.execute(text(statement))
    with db.read_session() as s:
        kept = service.list_access(s).items
    assert [(r.action, r.detail) for r in kept] == [
        ("customer.unmask", "field=phone"),
        ("customer.view", "section=overview"),
    ]
