"""The bank's registered channels for the anti-phishing check: the web and e-mail domains, phone numbers
and SMS short codes the public check (`/phishing-check`) calls genuine. Staff with `phishing.manage` list
them, add one and retire one; the antiphishing domain normalises the value, keeps its own role check and
audits every change in the same transaction."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from atrium.antiphishing import service as phishing
from atrium.antiphishing.domain import CHANNEL_KINDS
from atrium.db.runtime import get_db
from atrium.kit.errors import AtriumError
from atrium.web.deps import ReadOnlySession
from atrium.web.mobile import csrf
from atrium.web.mobile.templating import redirect
from atrium.web.staff.routing import ConsoleUser, StaffPageRoute, permit
from atrium.web.staff.templating import render, translator

router = APIRouter(route_class=StaffPageRoute)
MANAGE = "phishing.manage"
HOME = "/staff/phishing"
ChannelId = Annotated[str, Path(max_length=40)]


def _page(
    request: Request, session: Session, *, status_code: int = 200, values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None, saved: str = "", retired: str = "",
) -> Response:
    channels = phishing.list_channels(session)
    return render(
        request,
        "staff/phishing.html",
        status_code=status_code,
        title=translator(request)("phishing.title"),
        nav="phishing",
        channels=channels,
        changes=phishing.list_changes(session, limit=20),
        kinds=CHANNEL_KINDS,
        values=values or {"kind": "web", "value": "", "label": "", "include_subdomains": ""},
        errors=errors or {},
        saved=next((c for c in channels if c.id == saved), None),
        retired=next((c for c in channels if c.id == retired), None),
    )


@router.get(HOME)
def channels_page(
    request: Request,
    user: Annotated[ConsoleUser, permit(MANAGE)],
    session: ReadOnlySession,
    saved: Annotated[str, Query(max_length=40)] = "",
    retired: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    return _page(request, session, saved=saved, retired=retired)


@router.post(HOME, dependencies=[Depends(csrf.verify)])
def add_channel(
    request: Request,
    user: Annotated[ConsoleUser, permit(MANAGE)],
    kind: Annotated[str, Form(max_length=8)] = "",
    value: Annotated[str, Form(max_length=255)] = "",
    label: Annotated[str, Form(max_length=255)] = "",
    include_subdomains: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    t = translator(request)
    values = {"kind": kind, "value": value, "label": label, "include_subdomains": include_subdomains}
    errors: dict[str, str] = {}
    if kind not in CHANNEL_KINDS:
        errors["kind"] = t("phishing.error.kind")
    if not value.strip():
        errors["value"] = t("phishing.error.value")
    if not label.strip():
        errors["label"] = t("phishing.error.label")
    added = None
    if not errors:
        try:
            added = get_db().run(
                lambda s: phishing.add_channel(
                    s, staff_id=user.id, staff_role=user.role, kind=kind, value=value, label=label,
                    include_subdomains=include_subdomains == "on",
                )
            )
        except AtriumError as exc:
            if exc.status == 403:
                raise  # the domain refused the role: the 403 page, as for any other page
            field = "label" if exc.extra.get("field") == "label" else "value"
            code = f"phishing.error.{exc.code}"
            errors[field] = t(code) if t.has(code) else t("error.generic")
    if added is None:
        with get_db().read_session() as s:
            return _page(request, s, status_code=422, values=values, errors=errors)
    return redirect(request, f"{HOME}?{urlencode({'saved': added.id})}")


@router.post(HOME + "/{channel_id}/retire", dependencies=[Depends(csrf.verify)])
def retire_channel(
    request: Request, channel_id: ChannelId, user: Annotated[ConsoleUser, permit(MANAGE)]
) -> Response:
    get_db().run(
        lambda s: phishing.retire_channel(s, staff_id=user.id, staff_role=user.role, channel_id=channel_id)
    )
    return redirect(request, f"{HOME}?{urlencode({'retired': channel_id})}")
