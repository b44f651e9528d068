"""Block, allow and watch lists in the console: browse and filter the entries (`risk.lists.view`), add one
or remove one with a reason (`risk.lists.manage`), and the audit trail of every change.

Values are typed in clear (an IP, a device id, a payee's account number) and never shown again: the risk
service stores IPs, devices and payees as keyed hashes and keeps a mask ("203.0.*.*", "…0123") for
screens; cards, accounts, merchants and customers are the bank's own ids. A list change acts on the next
decision in every process (the risk revision), by one person, recorded with who, when and why.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from atrium.db.runtime import get_db
from atrium.kit.errors import ValidationFailed
from atrium.risk import service as risk
from atrium.risk.errors import ListEntryExists
from atrium.risk.schemas import ListEntryCreate
from atrium.web.deps import ReadOnlySession
from atrium.web.mobile import csrf
from atrium.web.mobile.templating import redirect
from atrium.web.staff.pages import risk_forms as forms
from atrium.web.staff.routing import ConsoleUser, StaffPageRoute, permit
from atrium.web.staff.templating import render, translator

router = APIRouter(route_class=StaffPageRoute)
VIEW, MANAGE = "risk.lists.view", "risk.lists.manage"
HOME = "/staff/risk/lists"
EntryId = Annotated[str, Path(min_length=3, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]
LIST_KINDS = ("block", "watch", "allow")
SUBJECT_KINDS = ("card", "account", "device", "ip", "payee", "merchant", "customer", "pair")
ADD_FIELDS = ("list_kind", "subject_kind", "value", "counterpart", "expires_days", "reason")
Text = Annotated[str, Form(max_length=500)]


def _filter(value: str, allowed: tuple[str, ...], field: str) -> str | None:
    if value and value not in allowed:
        raise ValidationFailed(f"unknown {field}", field=field)
    return value or None


def lists_view(
    request: Request, session: Session, *, list_kind: str = "", subject_kind: str = "", removed: bool = False,
    status_code: int = 200, errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
    done: str = "",
) -> Response:
    entries = risk.list_entries(session, list_kind=_filter(list_kind, LIST_KINDS, "list_kind"),
                                subject_kind=_filter(subject_kind, SUBJECT_KINDS, "subject_kind"),
                                include_removed=removed)
    trail = risk.list_audit(session, limit=50)
    return render(
        request, "staff/risk/lists.html", status_code=status_code,
        title=translator(request)("risk.lists.title"), nav="risk_controls", section="lists", entries=entries,
        trail=trail, list_kind=list_kind, subject_kind=subject_kind, removed=removed, list_kinds=LIST_KINDS,
        subject_kinds=SUBJECT_KINDS, errors=errors or {}, done=done,
        values={**dict.fromkeys(ADD_FIELDS, ""), "list_kind": "block", "subject_kind": "device",
                "expires_days": "90", **(values or {})},
        people=forms.names(session, [p for e in entries for p in (e.created_by, e.removed_by)]
                           + [a.staff_id for a in trail]),
    )


@router.get(HOME)
def lists_page(
    request: Request,
    user: Annotated[ConsoleUser, permit(VIEW)],
    session: ReadOnlySession,
    list_kind: Annotated[str, Query(max_length=12)] = "",
    subject_kind: Annotated[str, Query(max_length=12)] = "",
    removed: Annotated[str, Query(max_length=3)] = "",
    done: Annotated[str, Query(max_length=12)] = "",
) -> Response:
    return lists_view(request, session, list_kind=list_kind, subject_kind=subject_kind,
                      removed=removed == "1", done=done if done in ("added", "removed") else "")


@router.post(HOME, dependencies=[Depends(csrf.verify)])
def add_entry(
    request: Request,
    user: Annotated[ConsoleUser, permit(MANAGE)],
    list_kind: Annotated[str, Form(max_length=12)] = "",
    subject_kind: Annotated[str, Form(max_length=12)] = "",
    value: Annotated[str, Form(max_length=200)] = "",
    counterpart: Annotated[str, Form(max_length=200)] = "",
    expires_days: Annotated[str, Form(max_length=6)] = "",
    reason: Text = "",
) -> Response:
    typed = {"list_kind": list_kind, "subject_kind": subject_kind, "value": value, "counterpart": counterpart,
             "expires_days": expires_days, "reason": reason}
    try:
        if list_kind not in LIST_KINDS:
            raise ValidationFailed("choose a list", field="list_kind", words="list.kind")
        if subject_kind not in SUBJECT_KINDS:
            raise ValidationFailed("choose what kind of value it is", field="subject_kind",
                                   words="list.subject")
        if not value.strip():
            raise ValidationFailed("type the value to list", field="value", words="list.value")
        if subject_kind == "pair" and not counterpart.strip():
            raise ValidationFailed("a payer–payee pair needs the payee", field="counterpart",
                                   words="list.counterpart")
        body = ListEntryCreate(
            list_kind=list_kind, subject_kind=subject_kind, value=value.strip(),  # type: ignore[arg-type]
            counterpart=(counterpart.strip() or None) if subject_kind == "pair" else None,
            reason=forms.note_of(reason), expires_at=forms.expiry_of(expires_days))
        get_db().run(lambda s: risk.add_entry(s, body, user.id))
    except (ValidationFailed, ListEntryExists) as exc:
        field = str(exc.extra.get("field") or "form")
        field = {"note": "reason"}.get(field, field)
        words = forms.words(translator(request), exc)
        with get_db().read_session() as s:
            return lists_view(request, s, status_code=exc.status, values=typed,
                              errors={field if field in ADD_FIELDS else "form": words})
    return redirect(request, f"{HOME}?done=added")


@router.post(HOME + "/{entry_id}/remove", dependencies=[Depends(csrf.verify)])
def remove_entry(
    request: Request, entry_id: EntryId, user: Annotated[ConsoleUser, permit(MANAGE)], reason: Text = "",
) -> Response:
    try:
        text = forms.note_of(reason)
    except ValidationFailed as exc:
        with get_db().read_session() as s:
            risk.get_entry(s, entry_id)  # an unknown entry is a 404, whatever the reason
            return lists_view(request, s, status_code=422,
                              errors={f"remove-{entry_id}": forms.words(translator(request), exc)})
    get_db().run(lambda s: risk.remove_entry(s, entry_id, user.id, text))
    return redirect(request, f"{HOME}?done=removed")
