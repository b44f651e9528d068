"""Service notices and broadcasts.

A notice (zh and en words, a window, an audience: everyone or one identity kind) shows on the home page
of the customers it is for while its window is open (`current_notices`), and with `to_inbox` is also put
in their inboxes. Putting anything in many inboxes — a notice, or a marketing template to those who
consented — is a `Broadcast` that the broadcast job walks a batch of customers at a time
(`run_broadcast_batch`), never inside a request. Withdrawing a notice stops its broadcast and takes its
copies out of the inboxes.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from atrium.identity import identities
from atrium.identity import service as identity
from atrium.kit import clock
from atrium.kit.ids import new_id
from atrium.messages import domain
from atrium.messages import repository as repo
from atrium.messages.errors import InvalidNotice, InvalidTemplate, NoticeNotFound
from atrium.messages.models import Broadcast, Notice
from atrium.messages.schemas import NoticeCreate, NoticeRead
from atrium.messages.service import inbox, templates
from atrium.messages.service.templates import require_manager

NOTICE_CHANNELS = ("push",)
CUSTOMER_PAGE_MAX = 200  # identity.search_customers answers at most this many (+1)


def _text(value: str, limit: int, field: str) -> str:
    clean = (value or "").strip()
    if not clean or len(clean) > limit:
        raise InvalidNotice(f"{field} must be 1 to {limit} characters", field=field)
    return clean


def notice_dedup(notice_id: str) -> str:
    return f"notice:{notice_id}"


def publish_notice(
    session: Session, *, staff_id: str, staff_role: str | None, data: NoticeCreate,
    request_key: str | None = None,
) -> Notice:
    """Publish a notice (and, with `to_inbox`, start its broadcast). `request_key`: the form's one-time
    key; the same key again returns the notice it published."""
    require_manager(staff_role)
    if request_key:
        twin = repo.notice_by_key(session, request_key)
        if twin is not None:
            return twin
    if data.starts_at.tzinfo is None or data.ends_at.tzinfo is None:
        raise InvalidNotice("give the window with a time zone", field="starts_at")
    domain.check_window(data.starts_at, data.ends_at)
    row = Notice(
        id=new_id("ntc"), link=domain.safe_link(data.link), audience=data.audience,
        starts_at=data.starts_at, ends_at=data.ends_at, to_inbox=data.to_inbox, status="published",
        request_key=request_key, created_by=staff_id, created_at=clock.now(),
        **{
            f"{part}_{locale}": _text(getattr(data, f"{part}_{locale}"), limit, f"{part}_{locale}")
            for locale in domain.LOCALES
            for part, limit in (("title", domain.TITLE_MAX), ("body", domain.BODY_MAX))
        },
    )
    repo.add(session, row)
    if data.to_inbox:
        repo.add(session, Broadcast(
            id=new_id("bcst"), kind="notice", notice_id=row.id, audience=row.audience, status="pending",
            created_by=staff_id, created_at=clock.now(),
        ))
    return row


def withdraw_notice(session: Session, *, staff_id: str, staff_role: str | None, notice_id: str) -> Notice:
    """Withdraw a notice: off the home pages, its broadcast stopped, its copies out of the inboxes.
    Withdrawing it again changes nothing."""
    require_manager(staff_role)
    row = repo.notice(session, notice_id)
    if row is None:
        raise NoticeNotFound("no such notice", notice_id=notice_id)
    if row.status == "withdrawn":
        return row
    now = clock.now()
    row.status, row.withdrawn_by, row.withdrawn_at = "withdrawn", staff_id, now
    for b in repo.broadcasts_of_notice(session, notice_id):
        if b.status in ("pending", "running"):
            b.status, b.finished_at = "cancelled", now
    repo.delete_by_dedup(session, notice_dedup(notice_id), now)
    session.flush()
    return row


def list_notices(session: Session, *, limit: int = 50) -> list[Notice]:
    return repo.notices(session, max(1, min(limit, 200)))


def current_notices(
    session: Session, customer_id: str, *, locale: str, identity_kind: str | None, limit: int = 3
) -> list[NoticeRead]:
    """The notices to show on the customer's home page now (newest first), in `locale`: those for everyone
    and those for the identity kind they act in. Read-only; `message_id`/`read` tell whether the customer
    has the notice in their inbox and has read it."""
    lang = locale if locale in domain.LOCALES else domain.LOCALES[0]
    audiences = ["all"] + ([identity_kind] if identity_kind in domain.AUDIENCES[1:] else [])
    rows = repo.live_notices(session, clock.now(), audiences, max(1, min(limit, 20)))
    copies = repo.read_dedup_keys(session, customer_id, [notice_dedup(r.id) for r in rows])
    out = []
    for r in rows:
        copy = copies.get(notice_dedup(r.id))
        visible = copy is not None and copy.deleted_at is None
        out.append(NoticeRead(
            id=r.id, title=getattr(r, f"title_{lang}"), body=getattr(r, f"body_{lang}"), link=r.link,
            starts_at=r.starts_at, ends_at=r.ends_at, message_id=copy.id if visible else None,
            read=bool(visible and copy.read_at is not None),
        ))
    return out


def start_marketing(
    session: Session, *, staff_id: str, staff_role: str | None, template_key: str, audience: str = "all",
    request_key: str | None = None,
) -> Broadcast:
    """Send a marketing template (its current version, pinned now) to every consenting customer of the
    audience, through the broadcast job."""
    require_manager(staff_role)
    if request_key:
        twin = repo.broadcast_by_key(session, request_key)
        if twin is not None:
            return twin
    if audience not in domain.AUDIENCES:
        raise InvalidTemplate("unknown audience", field="audience")
    tpl, ver = templates.current(session, template_key)
    if tpl.category != "marketing":
        raise InvalidTemplate("only marketing templates are broadcast", field="template_key")
    row = Broadcast(
        id=new_id("bcst"), kind="marketing", template_key=tpl.key, template_version=ver.version,
        audience=audience, status="pending", request_key=request_key, created_by=staff_id,
        created_at=clock.now(),
    )
    repo.add(session, row)
    return row


def list_broadcasts(session: Session, *, limit: int = 20) -> list[Broadcast]:
    return repo.broadcasts(session, max(1, min(limit, 200)))


def open_broadcast_ids(session: Session, *, limit: int = 10) -> list[str]:
    return repo.open_broadcasts(session, limit)


def _in_audience(session: Session, customer_id: str, audience: str) -> bool:
    # Every customer acts as a person; organisation identities are looked up.
    if audience in ("all", "person"):
        return True
    return any(i.kind == audience for i in identities.list_identities(session, customer_id))


@dataclass(frozen=True)
class BatchResult:
    reached: int
    finished: bool  # the broadcast has no more customers to reach (or was stopped)


def run_broadcast_batch(session: Session, broadcast_id: str, *, batch: int = 200) -> BatchResult:
    """Reach the next `batch` customers of one broadcast (the row is locked: one runner at a time). Each
    customer's copy has the broadcast's dedup key, so a batch repeated after a crash adds nothing twice."""
    b = repo.broadcast(session, broadcast_id, lock=True)
    if b is None or b.status not in ("pending", "running"):
        return BatchResult(0, True)
    notice = repo.notice(session, b.notice_id) if b.notice_id else None
    if b.kind == "notice" and (notice is None or notice.status != "published"):
        b.status, b.finished_at = "cancelled", clock.now()
        session.flush()
        return BatchResult(0, True)
    people = identity.search_customers(session, before_id=b.cursor, limit=min(batch, CUSTOMER_PAGE_MAX))
    reached = skipped = 0
    for person in people:
        sent = None
        if person.status == "active" and _in_audience(session, person.id, b.audience):
            sent = _one(session, b, notice, person.id)
        if sent is None:
            skipped += 1
        else:
            reached += 1
    b.status = "running"
    b.reached += reached
    b.skipped += skipped
    if people:
        b.cursor = people[-1].id
    if len(people) < min(batch, CUSTOMER_PAGE_MAX):
        b.status, b.finished_at = "done", clock.now()
    session.flush()
    return BatchResult(reached, b.status == "done")


def _one(session: Session, b: Broadcast, notice: Notice | None, customer_id: str) -> object | None:
    if notice is not None:
        locale = inbox.customer_locale(session, customer_id)
        if locale is None:
            return None
        return inbox.deliver(
            session, customer_id=customer_id, category="service", title=getattr(notice, f"title_{locale}"),
            body=getattr(notice, f"body_{locale}"), link=notice.link, locale=locale,
            dedup_key=notice_dedup(notice.id), source="notice", channels=NOTICE_CHANNELS,
        )
    assert b.template_key is not None and b.template_version is not None
    return inbox.send_templated(
        session, customer_id=customer_id, template_key=b.template_key, values={},
        dedup_key=f"broadcast:{b.id}", source="broadcast", version=b.template_version,
    )
