"""Message templates in the console (`messages.manage`): the list, a new notice or marketing template, and
one template's edit form with its versions (restore one; send a marketing template to every consenting
customer through the broadcast job). Notices and the delivery log are `messages_notices`.

The messages domain validates the words (only the placeholders the template's sender fills, links to this
site only), keeps its own role check, and records which staff member wrote each version.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from atrium.db.runtime import get_db
from atrium.kit.errors import AtriumError
from atrium.kit.ids import new_id
from atrium.messages import domain
from atrium.messages import service as messages
from atrium.messages.schemas import TemplateEdit
from atrium.web.deps import ReadOnlySession
from atrium.web.mobile import csrf
from atrium.web.mobile.templating import redirect
from atrium.web.staff.routing import ConsoleUser, StaffPageRoute, permit
from atrium.web.staff.templating import render, translator

router = APIRouter(route_class=StaffPageRoute)
MANAGE = "messages.manage"
HOME = "/staff/messages"
TemplateKey = Annotated[str, Path(min_length=3, max_length=60, pattern=r"^[a-z0-9_.]+$")]
Text = Annotated[str, Form(max_length=2000)]
Short = Annotated[str, Form(max_length=300)]
FIELDS = ("title_zh", "body_zh", "title_en", "body_en", "link")


def form_error(request: Request, exc: AtriumError) -> tuple[str, str]:
    """(field, words) for a domain refusal shown beside the field it is about."""
    t = translator(request)
    field = str(exc.extra.get("field") or "form")
    code = f"messages.error.{exc.code}"
    return field, (t(code) if t.has(code) else exc.detail)


def _edit_from(channels: list[str], values: dict[str, str], note: str = "") -> TemplateEdit:
    return TemplateEdit(
        channels=[c for c in channels if c in domain.CHANNELS],  # type: ignore[misc]
        title_zh=values["title_zh"], body_zh=values["body_zh"], title_en=values["title_en"],
        body_en=values["body_en"], link=values["link"].strip() or None, note=note,
    )


def _list_page(
    request: Request, session: Session, *, status_code: int = 200, values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    return render(
        request, "staff/messages.html", status_code=status_code, title=translator(request)("messages.title"),
        nav="messages", section="templates", templates=messages.list_templates(session),
        categories=("service", "marketing"), channels=domain.CHANNELS,
        values=values or {"key": "", "category": "marketing", **dict.fromkeys(FIELDS, "")},
        errors=errors or {},
    )


@router.get(HOME)
def templates_page(
    request: Request, user: Annotated[ConsoleUser, permit(MANAGE)], session: ReadOnlySession
) -> Response:
    return _list_page(request, session)


@router.post(HOME + "/templates", dependencies=[Depends(csrf.verify)])
def create_template(
    request: Request,
    user: Annotated[ConsoleUser, permit(MANAGE)],
    key: Annotated[str, Form(max_length=60)] = "",
    category: Annotated[str, Form(max_length=16)] = "",
    channels: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies form defaults
    title_zh: Text = "", body_zh: Text = "", title_en: Text = "", body_en: Text = "", link: Short = "",
) -> Response:
    values = {"key": key, "category": category, "channels": " ".join(channels), "title_zh": title_zh,
              "body_zh": body_zh, "title_en": title_en, "body_en": body_en, "link": link}
    try:
        data = _edit_from(channels, values)
        created = get_db().run(lambda s: messages.create_template(
            s, staff_id=user.id, staff_role=user.role, key=key, category=category, data=data))
    except AtriumError as exc:
        if exc.status == 403:
            raise
        field, words = form_error(request, exc)
        with get_db().read_session() as s:
            return _list_page(request, s, status_code=422, values=values, errors={field: words})
    query = urlencode({"saved": created.current_version})
    return redirect(request, f"{HOME}/templates/{created.key}?{query}")


def _edit_page(
    request: Request, session: Session, key: str, *, status_code: int = 200,
    values: dict[str, str] | None = None, chosen: list[str] | None = None,
    errors: dict[str, str] | None = None, saved: str = "", sent: str = "",
) -> Response:
    template = messages.get_template(session, key)
    current = template.current
    t = translator(request)
    return render(
        request, "staff/messages_template.html", status_code=status_code,
        title=t("messages.template.title", key=key), nav="messages", section="templates", tpl=template,
        versions=messages.template_versions(session, key), channels=domain.CHANNELS,
        allowed=sorted(domain.RULES[template.category].allowed),
        values=values or {f: (getattr(current, f) or "") for f in FIELDS},
        chosen=chosen if chosen is not None else list(current.channels), errors=errors or {},
        saved=saved, sent=sent, audiences=domain.AUDIENCES, request_key=new_id("req"),
        placeholder_text=", ".join(f"{{{name}}}" for name in template.placeholders),
    )


@router.get(HOME + "/templates/{key}")
def template_page(
    request: Request,
    key: TemplateKey,
    user: Annotated[ConsoleUser, permit(MANAGE)],
    session: ReadOnlySession,
    saved: Annotated[str, Query(max_length=8)] = "",
    sent: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    return _edit_page(request, session, key, saved=saved, sent=sent)


@router.post(HOME + "/templates/{key}", dependencies=[Depends(csrf.verify)])
def save_template(
    request: Request,
    key: TemplateKey,
    user: Annotated[ConsoleUser, permit(MANAGE)],
    base_version: Annotated[int, Form(ge=1)],
    channels: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies form defaults
    title_zh: Text = "", body_zh: Text = "", title_en: Text = "", body_en: Text = "", link: Short = "",
    note: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    values = {"title_zh": title_zh, "body_zh": body_zh, "title_en": title_en, "body_en": body_en,
              "link": link}
    try:
        data = _edit_from(channels, values, note)
        saved = get_db().run(lambda s: messages.edit_template(
            s, staff_id=user.id, staff_role=user.role, key=key, data=data, base_version=base_version))
    except AtriumError as exc:
        if exc.status in (403, 404):
            raise
        field, words = form_error(request, exc)
        with get_db().read_session() as s:
            return _edit_page(request, s, key, status_code=409 if exc.status == 409 else 422, values=values,
                              chosen=channels, errors={field: words})
    return redirect(request, f"{HOME}/templates/{key}?{urlencode({'saved': saved.current_version})}")


@router.post(HOME + "/templates/{key}/restore", dependencies=[Depends(csrf.verify)])
def restore(
    request: Request,
    key: TemplateKey,
    user: Annotated[ConsoleUser, permit(MANAGE)],
    version: Annotated[int, Form(ge=1)],
    base_version: Annotated[int, Form(ge=1)],
) -> Response:
    saved = get_db().run(lambda s: messages.restore_version(
        s, staff_id=user.id, staff_role=user.role, key=key, version=version, base_version=base_version))
    return redirect(request, f"{HOME}/templates/{key}?{urlencode({'saved': saved.current_version})}")


@router.post(HOME + "/templates/{key}/broadcast", dependencies=[Depends(csrf.verify)])
def broadcast(
    request: Request,
    key: TemplateKey,
    user: Annotated[ConsoleUser, permit(MANAGE)],
    audience: Annotated[str, Form(max_length=20)] = "all",
    request_key: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Start sending a marketing template to every consenting customer of the audience (the broadcast job
    walks them in batches); the form's one-time key makes a double submit send once."""
    started = get_db().run(lambda s: messages.start_marketing(
        s, staff_id=user.id, staff_role=user.role, template_key=key, audience=audience,
        request_key=request_key or None))
    return redirect(request, f"{HOME}/templates/{key}?{urlencode({'sent': started.template_version})}")
