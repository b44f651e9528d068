"""Revealing one masked KYC field: permission, a reason category and words, its own audit record (the
field's name, never the value), nothing read or recorded when refused, and a per-staff limit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from atrium.config import get_settings
from atrium.kit import clock
from atrium.staff import service
from atrium.staff.errors import (
    CustomerNotFound,
    FieldNotOnFile,
    InvalidReason,
    PermissionDenied,
    RevealLimitReached,
    RevealReasonRequired,
    UnknownField,
)
from tests.staff.factories import Kyc, customer, give_kyc, staff

WHY = "客户来电核实身份，回拨确认"


@pytest.fixture()
def mei(db):  # type: ignore[no-untyped-def]
    person = customer(db, "mei.wang", "王美丽")
    give_kyc(db, person.id)
    return person


def _records(db):  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        return service.list_access(s).items


def _reveal(db, who, customer_id, field="phone", category="identity_check", reason=WHY, role=None):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return service.reveal_field(
            s,
            staff_id=who.id,
            staff_role=role or "account_manager",
            customer_id=customer_id,
            field=field,
            category=category,
            reason=reason,
        )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", Kyc.phone),
        ("legal_name", Kyc.legal_name),
        ("id_number", Kyc.id_number),
        ("email", Kyc.email),
        ("address", Kyc.address),
    ],
)
def test_a_reveal_returns_one_field_and_records_its_name_only(db, mei, field: str, value: str) -> None:  # type: ignore[no-untyped-def]
    manager = staff(db, "account_manager", "am")
    shown = _reveal(db, manager, mei.id, field=field)
    assert shown.value == value and shown.field == field
    assert value not in repr(shown)  # a stray log line of the result shows no value
    [record] = _records(db)
    assert record == shown.access
    assert (record.action, record.screen, record.customer_id, record.detail) == (
        "customer.unmask",
        "customer.kyc",
        mei.id,
        f"field={field}",
    )
    assert (record.reason_category, record.reason, record.staff_role) == (
        "identity_check",
        WHY,
        "account_manager",
    )
    assert value not in record.model_dump_json()


@pytest.mark.parametrize(
    ("category", "reason", "error"),
    [
        (None, WHY, RevealReasonRequired),
        ("", WHY, RevealReasonRequired),
        ("curiosity", WHY, RevealReasonRequired),
        ("identity_check", None, RevealReasonRequired),
        ("identity_check", "", RevealReasonRequired),
        ("identity_check", "   ", RevealReasonRequired),
        ("identity_check", "check", RevealReasonRequired),  # 5 letters: says nothing
        ("identity_check", "核实身份", RevealReasonRequired),  # 4 characters (weight 8 < 12)
        ("identity_check", "aaaaaaaaaaaaaaaa", RevealReasonRequired),  # one character repeated
        ("identity_check", "x" * 201, InvalidReason),
        ("identity_check", "caller verified\nby call-back", InvalidReason),
    ],
)
def test_a_reveal_without_a_proper_reason_reads_and_records_nothing(db, mei, category, reason, error) -> None:  # type: ignore[no-untyped-def]
    manager = staff(db, "account_manager", "am")
    with pytest.raises(error):
        _reveal(db, manager, mei.id, category=category, reason=reason)
    assert _records(db) == []


def test_reasons_that_say_enough() -> None:
    from atrium.staff.domain import reveal_reason

    assert reveal_reason("complaint", "  complaint   #4471 ") == ("complaint", "complaint #4471")
    assert reveal_reason("identity_check", "核实客户身份") == (
        "identity_check",
        "核实客户身份",
    )  # 6 characters


def test_a_role_without_unmask_cannot_reveal(db, mei) -> None:  # type: ignore[no-untyped-def]
    operator = staff(db, "operator", "op")
    with pytest.raises(PermissionDenied):
        _reveal(db, operator, mei.id, role="operator")
    assert _records(db) == []


def test_unknown_fields_customers_and_details_not_on_file_record_nothing(db, mei) -> None:  # type: ignore[no-untyped-def]
    manager = staff(db, "account_manager", "am")
    bare = customer(db, "bo", "Bo Li")  # no KYC details at all
    with pytest.raises(UnknownField):
        _reveal(db, manager, mei.id, field="password_hash")
    with pytest.raises(FieldNotOnFile):
        _reveal(db, manager, bare.id, field="email")
    with pytest.raises(CustomerNotFound):
        _reveal(db, manager, "cus_nobody")
    assert _records(db) == []


def test_the_reveal_limit_is_per_staff_member_and_slides(db, mei, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(get_settings().staff, "reveal_limit", 3)
    monkeypatch.setattr(get_settings().staff, "reveal_window_s", 600)
    manager = staff(db, "account_manager", "am")
    analyst = staff(db, "risk_analyst", "ra")
    start = clock.now()
    previous = clock.use(clock.FrozenClock(start))
    try:
        for i, field in enumerate(("phone", "email", "address")):
            clock.use(clock.FrozenClock(start + timedelta(seconds=60 * i)))
            _reveal(db, manager, mei.id, field=field)
        with db.read_session() as s:
            assert service.reveals_left(s, manager.id) == (0, 600 - 120)
        with pytest.raises(RevealLimitReached) as refused:
            _reveal(db, manager, mei.id, field="legal_name")
        assert refused.value.retry_after == 600 - 120 and refused.value.status == 429
        _reveal(db, analyst, mei.id, field="legal_name", role="risk_analyst")  # another member's own limit
        # The first reveal leaves the window 600 s after it was made: one more fits, not two.
        clock.use(clock.FrozenClock(start + timedelta(seconds=601)))
        _reveal(db, manager, mei.id, field="legal_name")
        with pytest.raises(RevealLimitReached):
            _reveal(db, manager, mei.id, field="id_number")
    finally:
        clock.use(previous)
    unmasks = [r for r in _records(db) if r.staff_id == manager.id]
    assert [r.detail for r in unmasks] == ["field=legal_name", "field=address", "field=email", "field=phone"]


@pytest.mark.postgres
def test_concurrent_reveals_by_one_member_take_turns_under_the_limit(db, mei, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Two reveals at once with one left: the advisory lock makes the second wait for the first to commit
    and then count it, so exactly one succeeds (without it both could read "one left")."""
    import threading

    if db.is_sqlite:
        pytest.skip("SQLite write transactions already run one at a time")
    monkeypatch.setattr(get_settings().staff, "reveal_limit", 1)
    manager = staff(db, "account_manager", "am")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def reveal(field: str) -> None:
        try:
            with db.unit_of_work() as s:
                barrier.wait(timeout=10)
                service.reveal_field(
                    s,
                    staff_id=manager.id,
                    staff_role="account_manager",
                    customer_id=mei.id,
                    field=field,
                    category="identity_check",
                    reason=WHY,
                )
            outcomes.append("revealed")
        except RevealLimitReached:
            outcomes.append("refused")

    threads = [threading.Thread(target=reveal, args=(f,)) for f in ("phone", "email")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["refused", "revealed"]
    assert len([r for r in _records(db) if r.action == "customer.unmask"]) == 1
