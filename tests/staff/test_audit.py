"""The access audit's filters (customer, staff member, action, China days) and its CSV export, which is
recorded itself and cannot be turned into a spreadsheet formula."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest

from atrium.kit import clock
from atrium.kit.errors import ValidationFailed
from atrium.staff import service
from atrium.staff.errors import ExportTooLarge
from atrium.staff.service import AuditQuery
from atrium.staff.service import audit as audit_service
from tests.staff.factories import customer, staff


def _at(when: datetime, db, **record) -> None:  # type: ignore[no-untyped-def]
    previous = clock.use(clock.FrozenClock(when))
    try:
        with db.unit_of_work() as s:
            service.record_access(s, **record)
    finally:
        clock.use(previous)


@pytest.fixture()
def history(db):  # type: ignore[no-untyped-def]
    op, cmp = staff(db, "operator", "op"), staff(db, "compliance_officer", "cmp")
    a, b = customer(db, "a1", "甲一"), customer(db, "b1", "乙一")
    # 2024-05-01 23:30 in Shanghai is 15:30 UTC; 2024-05-02 00:30 in Shanghai is 16:30 UTC the day before.
    _at(
        datetime(2024, 5, 1, 15, 30, tzinfo=UTC),
        db,
        staff_id=op.id,
        staff_role="operator",
        action="customer.view",
        customer_id=a.id,
        screen="customer.360",
        detail="section=overview",
    )
    _at(
        datetime(2024, 5, 1, 16, 30, tzinfo=UTC),
        db,
        staff_id=op.id,
        staff_role="operator",
        action="customer.unmask",
        customer_id=a.id,
        screen="customer.kyc",
        reason='=HYPERLINK("x")',
        reason_category="complaint",
        detail="field=phone",
    )
    _at(
        datetime(2024, 5, 3, 2, 0, tzinfo=UTC),
        db,
        staff_id=cmp.id,
        staff_role="compliance_officer",
        action="customer.view",
        customer_id=b.id,
        screen="customer.360",
        detail="section=security",
    )
    return op, cmp, a, b


def _ids(db, query: AuditQuery) -> list[str]:  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        return [r.detail for r in service.list_access(s, query).items]


def test_filters_combine_and_days_are_china_days(db, history) -> None:  # type: ignore[no-untyped-def]
    op, cmp, a, b = history
    assert _ids(db, AuditQuery()) == ["section=security", "field=phone", "section=overview"]
    assert _ids(db, AuditQuery(customer_id=a.id)) == ["field=phone", "section=overview"]
    assert _ids(db, AuditQuery(staff_id=cmp.id)) == ["section=security"]
    assert _ids(db, AuditQuery(action="customer.unmask")) == ["field=phone"]
    assert _ids(db, AuditQuery(date_from=date(2024, 5, 2))) == ["section=security", "field=phone"]
    assert _ids(db, AuditQuery(date_to=date(2024, 5, 1))) == ["section=overview"]
    assert _ids(db, AuditQuery(date_from=date(2024, 5, 2), date_to=date(2024, 5, 2))) == ["field=phone"]
    assert _ids(db, AuditQuery(staff_id=op.id, action="customer.view")) == ["section=overview"]
    with pytest.raises(ValidationFailed):
        _ids(db, AuditQuery(action="customer.delete"))
    with pytest.raises(ValidationFailed):
        _ids(db, AuditQuery(date_from=date(2024, 5, 3), date_to=date(2024, 5, 1)))


def test_the_export_is_the_filtered_records_and_is_recorded(db, history) -> None:  # type: ignore[no-untyped-def]
    op, cmp, a, _ = history
    with db.unit_of_work() as s:
        export = service.export_access(
            s, AuditQuery(customer_id=a.id), staff_id=cmp.id, staff_role="compliance_officer"
        )
    rows = list(csv.DictReader(io.StringIO(export.csv)))
    assert export.rows == 2 and len(rows) == 2 and export.filename.endswith(".csv")
    assert list(rows[0]) == list(audit_service.CSV_COLUMNS)
    unmask = rows[0]
    assert (unmask["action"], unmask["detail"], unmask["reason_category"], unmask["staff_username"]) == (
        "customer.unmask",
        "field=phone",
        "complaint",
        "op",
    )
    assert unmask["reason"] == '\'=HYPERLINK("x")'  # a formula arrives as text
    assert unmask["occurred_at"] == "2024-05-01T16:30:00+00:00"
    with db.read_session() as s:
        [record] = service.list_access(s, AuditQuery(action="audit.export")).items
    assert (record.staff_id, record.customer_id, record.screen, record.reason) == (
        cmp.id,
        a.id,
        "audit.export",
        "audit log export",
    )
    assert record.detail == f"rows=2 customer={a.id}"


def test_an_export_too_large_is_refused_and_not_recorded(db, history, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _, cmp, _, _ = history
    monkeypatch.setattr(audit_service, "EXPORT_MAX", 2)
    with pytest.raises(ExportTooLarge), db.unit_of_work() as s:
        service.export_access(s, AuditQuery(), staff_id=cmp.id, staff_role="compliance_officer")
    assert _ids(db, AuditQuery(action="audit.export")) == []


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cells_never_start_a_formula(value: str) -> None:
    assert audit_service.csv_cell(value) == "'" + value
    assert audit_service.csv_cell("plain") == "plain" and audit_service.csv_cell(None) == ""
