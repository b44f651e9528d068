"""Where an access record came from: the staff session's public id and the client address, bound once per
console request (`bind_origin`) or given by the caller, and none for records written outside a request."""

from __future__ import annotations

import csv
import io
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from atrium.kit.errors import ValidationFailed
from atrium.staff import service
from atrium.staff.service import AccessOrigin, AuditQuery
from tests.staff.factories import customer, give_kyc, staff


def test_a_record_written_outside_a_request_has_no_origin(db) -> None:  # type: ignore[no-untyped-def]
    op = staff(db)
    li = customer(db, "li.si", "李四")
    assert service.current_origin() is None
    with db.unit_of_work() as s:
        viewed = service.view_customer(s, staff_id=op.id, staff_role="operator", customer_id=li.id)
    assert (viewed.access.session_ref, viewed.access.ip) == (None, None)
    with db.read_session() as s:
        [record] = service.list_access(s).items
    assert (record.session_ref, record.ip) == (None, None)


def test_every_use_case_records_the_bound_origin_until_it_is_unbound(db) -> None:  # type: ignore[no-untyped-def]
    op = staff(db)
    li = customer(db, "li.si", "李四")
    give_kyc(db, li.id)
    token = service.bind_origin(AccessOrigin(session_ref="ses_01HZX0000000000000000ABCD", ip="203.0.113.7"))
    try:
        with db.unit_of_work() as s:
            service.search_customers(s, staff_id=op.id, staff_role="operator", text="li")
            service.view_customer(s, staff_id=op.id, staff_role="operator", customer_id=li.id)
            service.reveal_field(
                s, staff_id=op.id, staff_role="risk_analyst", customer_id=li.id, field="phone",
                category="fraud_investigation", reason="case 2024-117 card fraud",
            )
    finally:
        service.unbind_origin(token)
    with db.unit_of_work() as s:  # after the request: none again
        service.view_customer(s, staff_id=op.id, staff_role="operator", customer_id=li.id)
    with db.read_session() as s:
        records = service.list_access(s).items
    assert [(r.action, r.session_ref, r.ip) for r in records] == [
        ("customer.view", None, None),
        ("customer.unmask", "ses_01HZX0000000000000000ABCD", "203.0.113.7"),
        ("customer.view", "ses_01HZX0000000000000000ABCD", "203.0.113.7"),
        ("customer.search", "ses_01HZX0000000000000000ABCD", "203.0.113.7"),
    ]


def test_a_binding_stays_in_its_own_context(db) -> None:  # type: ignore[no-untyped-def]
    """Another request (another thread, another task) never sees this one's origin."""
    seen: list[AccessOrigin | None] = []
    token = service.bind_origin(AccessOrigin(session_ref="ses_A", ip="198.51.100.1"))
    try:
        other = threading.Thread(target=lambda: seen.append(service.current_origin()))
        other.start()
        other.join()
    finally:
        service.unbind_origin(token)
    assert seen == [None]


def test_an_explicit_origin_wins_and_blanks_are_none(db) -> None:  # type: ignore[no-untyped-def]
    op = staff(db)
    token = service.bind_origin(AccessOrigin(session_ref="ses_bound", ip="198.51.100.1"))
    try:
        with db.unit_of_work() as s:
            given = service.record_access(
                s, staff_id=op.id, staff_role="operator", action="customer.search", detail="shown=0",
                origin=AccessOrigin(session_ref="ses_job", ip=" "),
            )
    finally:
        service.unbind_origin(token)
    assert (given.session_ref, given.ip) == ("ses_job", None)
    assert AccessOrigin(session_ref="", ip="") == AccessOrigin()
    assert AccessOrigin(ip="x" * 100).ip == "x" * 64
    with pytest.raises(ValidationFailed):
        AccessOrigin(session_ref="s" * 41)


def test_the_log_filters_by_session_and_the_csv_carries_session_and_address(db) -> None:  # type: ignore[no-untyped-def]
    op, cmp = staff(db, "operator", "op"), staff(db, "compliance_officer", "cmp")
    for ref, ip in (("ses_one", "203.0.113.7"), ("ses_two", "2001:db8::1"), (None, None)):
        with db.unit_of_work() as s:
            service.record_access(
                s, staff_id=op.id, staff_role="operator", action="customer.search", detail=f"shown={ref}",
                origin=AccessOrigin(session_ref=ref, ip=ip),
            )
    with db.read_session() as s:
        one = service.list_access(s, AuditQuery(session_ref="ses_one")).items
        assert [(r.detail, r.ip) for r in one] == [("shown=ses_one", "203.0.113.7")]
        assert service.list_access(s, AuditQuery(session_ref="ses_none")).items == []
    with db.unit_of_work() as s:
        export = service.export_access(
            s, AuditQuery(staff_id=op.id), staff_id=cmp.id, staff_role="compliance_officer"
        )
    rows = list(csv.DictReader(io.StringIO(export.csv)))
    assert list(rows[0])[-2:] == ["session_ref", "ip"]
    assert [(r["detail"], r["session_ref"], r["ip"]) for r in rows] == [
        ("shown=None", "", ""),  # a record without an origin: empty cells
        ("shown=ses_two", "ses_two", "2001:db8::1"),
        ("shown=ses_one", "ses_one", "203.0.113.7"),
    ]
    assert AuditQuery(session_ref="ses_one").describe() == "session=ses_one"


@pytest.mark.postgres
def test_the_origin_cannot_be_rewritten_in_postgresql(db) -> None:  # type: ignore[no-untyped-def]
    if db.is_sqlite:
        pytest.skip("the append-only trigger is PostgreSQL's")
    op = staff(db)
    with db.unit_of_work() as s:
        service.record_access(
            s, staff_id=op.id, staff_role="operator", action="customer.search", detail="shown=0",
            origin=AccessOrigin(session_ref="ses_real", ip="203.0.113.7"),
        )
    for statement in (
        "UPDATE staff_access_audit SET session_ref = 'ses_other'",
        "UPDATE staff_access_audit SET ip = NULL",
    ):
        with pytest.raises(DBAPIError, match="append-only"), db.unit_of_work() as s:
            s.execute(text(statement))
    with db.read_session() as s:
        [kept] = service.list_access(s).items
    assert (kept.session_ref, kept.ip) == ("ses_real", "203.0.113.7")
