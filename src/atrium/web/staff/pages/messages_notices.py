"""Service notices and the delivery log in the console (`messages.manage`).

- /staff/messages/notices: the notices (newest first, with their broadcast's progress), publishing one
  (zh and en words, a window in Beijing time, everyone or one identity kind, whether it also goes to the
  inboxes) and withdrawing one.
- /staff/messages/delivery: how many notifications were sent, skipped, failed or are pending, per channel,
  the error codes, messages per category and the broadcasts. Counts only: no customer, no phone number,
  no message text.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from atrium.db.runtime import get_db
from atrium.kit import clock
from atrium.kit.errors import AtriumError
from atrium.kit.ids import new_id
from atrium.messages import domain
from atrium.messages import service as messages
from atrium.messages.errors import InvalidNotice
from atrium.messages.schemas import NoticeCreate
from atrium.web.deps import ReadOnlySession
from atrium.web.mobile import csrf
from atrium.web.mobile.templating import redirect
from atrium.web.staff.pages.messages import HOME, MANAGE, form_error
from atrium.web.staff.routing import ConsoleUser, StaffPageRoute, permit
from atrium.web.staff.templating import render, translator

router = APIRouter(route_class=StaffPageRoute)
NOTICES = HOME + "/notices"
# Staff type times as the bank's customers read them.
BANK_TZ = ZoneInfo("Asia/Shanghai")
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
NoticeId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]
Text = Annotated[str, Form(max_length=2000)]
PERIODS = {"1": 1, "7": 7, "30": 30}


def _local(at: datetime) -> str:
    return at.astimezone(BANK_TZ).strftime(LOCAL_FORMAT)


def _parse_local(raw: str, field: str) -> datetime:
    try:
        return datetime.strptime(raw.strip(), LOCAL_FORMAT).replace(tzinfo=BANK_TZ)
    except ValueError as exc:
        raise InvalidNotice("give a date and time", field=field) from exc


def _notices_page(
    request: Request, session: Session, *, status_code: int = 200, values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None, done: str = "",
) -> Response:
    now = clock.now()
    progress = {b.notice_id: b for b in messages.list_broadcasts(session, limit=200) if b.notice_id}
    return render(
        request, "staff/messages_notices.html", status_code=status_code,
        title=translator(request)("messages.notices.title"), nav="messages", section="notices",
        notices=messages.list_notices(session), progress=progress, audiences=domain.AUDIENCES, now=now,
        values=values or {
            "title_zh": "", "body_zh": "", "title_en": "", "body_en": "", "link": "", "audience": "all",
            "starts_at": _local(now), "ends_at": _local(now + timedelta(days=7)), "to_inbox": "on",
            "request_key": new_id("req"),
        },
        errors=errors or {}, done=done,
    )


@router.get(NOTICES)
def notices_page(
    request: Request,
    user: Annotated[ConsoleUser, permit(MANAGE)],
    session: ReadOnlySession,
    done: Annotated[str, Query(max_length=12)] = "",
) -> Response:
    return _notices_page(request, session, done=done if done in ("published", "withdrawn") else "")


@router.post(NOTICES, dependencies=[Depends(csrf.verify)])
def publish(
    request: Request,
    user: Annotated[ConsoleUser, permit(MANAGE)],
    title_zh: Text = "", body_zh: Text = "", title_en: Text = "", body_en: Text = "",
    link: Annotated[str, Form(max_length=300)] = "",
    audience: Annotated[str, Form(max_length=20)] = "all",
    starts_at: Annotated[str, Form(max_length=20)] = "",
    ends_at: Annotated[str, Form(max_length=20)] = "",
    to_inbox: Annotated[str, Form(max_length=3)] = "",
    request_key: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    values = {"title_zh": title_zh, "body_zh": body_zh, "title_en": title_en, "body_en": body_en,
              "link": link, "audience": audience, "starts_at": starts_at, "ends_at": ends_at,
              "to_inbox": to_inbox, "request_key": request_key}
    try:
        if audience not in domain.AUDIENCES:
            raise InvalidNotice("unknown audience", field="audience")
        data = NoticeCreate(
            title_zh=title_zh, body_zh=body_zh, title_en=title_en, body_en=body_en, link=link.strip() or None,
            audience=audience,  # type: ignore[arg-type]
            starts_at=_parse_local(starts_at, "starts_at"), ends_at=_parse_local(ends_at, "ends_at"),
            to_inbox=to_inbox == "on",
        )
        get_db().run(lambda s: messages.publish_notice(
            s, staff_id=user.id, staff_role=user.role, data=data, request_key=request_key or None))
    except AtriumError as exc:
        if exc.status == 403:
            raise
        field, words = form_error(request, exc)
        with get_db().read_session() as s:
            return _notices_page(request, s, status_code=422, values=values, errors={field: words})
    return redirect(request, f"{NOTICES}?done=published")


@router.post(NOTICES + "/{notice_id}/withdraw", dependencies=[Depends(csrf.verify)])
def withdraw(request: Request, notice_id: NoticeId, user: Annotated[ConsoleUser, permit(MANAGE)]) -> Response:
    get_db().run(lambda s: messages.withdraw_notice(s, staff_id=user.id, staff_role=user.role,
                                                    notice_id=notice_id))
    return redirect(request, f"{NOTICES}?done=withdrawn")


@router.get(HOME + "/delivery")
def delivery_page(
    request: Request,
    user: Annotated[ConsoleUser, permit(MANAGE)],
    session: ReadOnlySession,
    days: Annotated[str, Query(max_length=3)] = "",
) -> Response:
    period = PERIODS.get(days)
    since = clock.now() - timedelta(days=period) if period else None
    return render(
        request, "staff/messages_delivery.html", title=translator(request)("messages.delivery.title"),
        nav="messages", section="delivery", log=messages.delivery_log(session, since=since),
        broadcasts=messages.list_broadcasts(session, limit=20), days=days if period else "",
        periods=PERIODS, statuses=("pending", "sent", "skipped", "failed"), channels=domain.CHANNELS,
        categories=domain.CATEGORIES,
    )
