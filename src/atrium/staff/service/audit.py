"""The access audit: writing a record for every staff read, listing them with filters, exporting them.

Reading the log is not a read of customer data and records nothing; exporting it is a copy leaving the
console, so the export is recorded (`audit.export`, with its filters and row count in `detail`).

Each record also says where the read came from (`AccessOrigin`): the staff session's public id and the
client address. The console binds them once per request, where it resolves the signed-in staff member
(`bind_origin`), so every use case that records an access picks them up without passing them along; a
record written outside a console request (a job, the CLI, a test calling the service) has none, unless
the caller gives `origin=` itself."""

from __future__ import annotations

import csv
import io
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

from sqlalchemy.orm import Session

from atrium.identity import service as identity
from atrium.kit import clock
from atrium.kit.errors import ValidationFailed
from atrium.kit.ids import new_id
from atrium.kit.pagination import encode_cursor
from atrium.staff import repository
from atrium.staff.domain import AUDITED_ACTIONS, REVEAL_CATEGORIES, SCREENS, clean_reason
from atrium.staff.errors import ExportTooLarge
from atrium.staff.models import AuditRecord
from atrium.staff.schemas import AccessExport, AccessPage, AccessRecordRead
from atrium.staff.service._common import before_id, check_limit

DETAIL_MAX = 200
# The bank's day: dates in filters are China dates (one UTC offset all year).
BANK_TZ = timezone(timedelta(hours=8))
# An export larger than this is refused with a request to narrow the filters (a month of a big bank's
# reads fits; "everything ever" does not belong in one spreadsheet).
EXPORT_MAX = 100_000
CSV_COLUMNS = (
    "occurred_at", "record_id", "staff_id", "staff_username", "staff_role", "action", "screen",
    "customer_id", "reason_category", "reason", "detail", "session_ref", "ip",
)
SESSION_REF_MAX = 40
IP_MAX = 64


@dataclass(frozen=True)
class AccessOrigin:
    """Where a staff read came from: the public id of the staff member's sign-in session (`sid` of
    `auth_sessions` — never the session token or a digest of it) and the client address as the web layer
    determines it (`atrium.web.deps.client_info`). Blank values are kept as None."""

    session_ref: str | None = None
    ip: str | None = None

    def __post_init__(self) -> None:
        if self.session_ref is not None and len(self.session_ref) > SESSION_REF_MAX:
            raise ValidationFailed(f"a session reference is at most {SESSION_REF_MAX} characters")
        object.__setattr__(self, "session_ref", (self.session_ref or "").strip() or None)
        object.__setattr__(self, "ip", (self.ip or "").strip()[:IP_MAX] or None)


# The origin of the request being served, if any: a context variable, so each request (its own task, and
# the worker threads it runs sync code in, which copy its context) sees only its own.
_origin: ContextVar[AccessOrigin | None] = ContextVar("staff_access_origin", default=None)


def bind_origin(origin: AccessOrigin | None) -> Token[AccessOrigin | None]:
    """Attribute the access records written from now on in this context (one console request) to `origin`.
    Returns the token that `unbind_origin` takes back."""
    return _origin.set(origin)


def unbind_origin(token: Token[AccessOrigin | None]) -> None:
    _origin.reset(token)


def current_origin() -> AccessOrigin | None:
    return _origin.get()


def record_access(
    session: Session,
    *,
    staff_id: str,
    staff_role: str | None,
    action: str,
    customer_id: str | None = None,
    screen: str = "",
    reason: str | None = None,
    reason_category: str = "",
    detail: str = "",
    origin: AccessOrigin | None = None,
) -> AccessRecordRead:
    """Write the audit record of one staff read. `reason` None or blank records `DEFAULT_REASON`;
    `detail` must hold no PII (ids, a count, a field's name). `origin` defaults to the one bound to the
    current request (`bind_origin`), else none."""
    if action not in AUDITED_ACTIONS:
        raise ValidationFailed(f"unknown audited action {action!r}")
    if screen and screen not in SCREENS:
        raise ValidationFailed(f"unknown screen {screen!r}")
    if reason_category and reason_category not in REVEAL_CATEGORIES:
        raise ValidationFailed(f"unknown reason category {reason_category!r}")
    if len(detail) > DETAIL_MAX:
        raise ValidationFailed(f"detail is at most {DETAIL_MAX} characters")
    where = origin if origin is not None else _origin.get()
    record = repository.add(
        session,
        AuditRecord(
            id=new_id("aud"),
            staff_id=staff_id,
            staff_role=staff_role or "",
            action=action,
            customer_id=customer_id,
            screen=screen,
            reason_category=reason_category,
            reason=clean_reason(reason),
            detail=detail,
            occurred_at=clock.now(),
            session_ref=where.session_ref if where else None,
            ip=where.ip if where else None,
        ),
    )
    return AccessRecordRead.model_validate(record)


@dataclass(frozen=True)
class AuditQuery:
    """Filters of the audit log; dates are the bank's (China) days, both inclusive."""

    customer_id: str | None = None
    staff_id: str | None = None
    action: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    session_ref: str | None = None

    def to_filters(self) -> repository.Filters:
        if self.action is not None and self.action not in AUDITED_ACTIONS:
            raise ValidationFailed("unknown action", field="action")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValidationFailed("the first day is after the last", field="date_from")
        return repository.Filters(
            customer_id=self.customer_id,
            staff_id=self.staff_id,
            action=self.action,
            session_ref=self.session_ref,
            since=_day_start(self.date_from) if self.date_from else None,
            until=_day_start(self.date_to + timedelta(days=1)) if self.date_to else None,
        )

    def describe(self) -> str:
        """The filters, for the export's audit record: ids, an action, dates — no PII."""
        parts = [
            f"{name}={value}"
            for name, value in (
                ("customer", self.customer_id), ("staff", self.staff_id), ("action", self.action),
                ("from", self.date_from), ("to", self.date_to), ("session", self.session_ref),
            )
            if value
        ]
        return " ".join(parts) or "all"


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=BANK_TZ)


def list_access(
    session: Session,
    query: AuditQuery | None = None,
    *,
    customer_id: str | None = None,
    staff_id: str | None = None,
    action: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> AccessPage:
    """Audit records, newest first, filtered by `query` (or the shorthand keywords)."""
    check_limit(limit)
    q = query or AuditQuery(customer_id=customer_id, staff_id=staff_id, action=action)
    rows = repository.page(session, q.to_filters(), before_id=before_id(cursor), limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return AccessPage(
        items=[AccessRecordRead.model_validate(r) for r in rows],
        next_cursor=encode_cursor([rows[-1].id]) if more and rows else None,
    )


# A cell a spreadsheet would run as a formula (CSV injection) gets a leading apostrophe: reasons and
# usernames are typed by people.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


EXPORT_REASON = "audit log export"


def export_access(
    session: Session, query: AuditQuery, *, staff_id: str, staff_role: str | None, reason: str | None = None
) -> AccessExport:
    """Every record matching `query` as CSV (UTF-8, newest first), and the `audit.export` record of this
    export (reason: the one given, else EXPORT_REASON), written in the same transaction."""
    stated = clean_reason((reason or "").strip() or EXPORT_REASON)  # a bad reason fails before any read
    filters = query.to_filters()
    total = repository.count(session, filters)
    if total > EXPORT_MAX:
        raise ExportTooLarge(f"{total} records match; export at most {EXPORT_MAX} at a time", rows=total)
    usernames: dict[str, str] = {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    rows = 0
    for r in repository.stream(session, filters):
        if r.staff_id not in usernames:
            who = identity.get_staff(session, r.staff_id)
            usernames[r.staff_id] = who.username if who else ""
        writer.writerow([csv_cell(v) for v in (
            r.occurred_at.astimezone(UTC).isoformat(), r.id, r.staff_id, usernames[r.staff_id],
            r.staff_role, r.action, r.screen, r.customer_id, r.reason_category, r.reason, r.detail,
            r.session_ref, r.ip,
        )])
        rows += 1
    access = record_access(
        session, staff_id=staff_id, staff_role=staff_role, action="audit.export",
        customer_id=query.customer_id, screen="audit.export",
        reason=stated,
        detail=f"rows={rows} {query.describe()}"[:DETAIL_MAX],
    )
    stamp = clock.now().astimezone(BANK_TZ).strftime("%Y%m%d-%H%M%S")
    return AccessExport(
        filename=f"staff-access-audit-{stamp}.csv", rows=rows, csv=out.getvalue(), access=access
    )
