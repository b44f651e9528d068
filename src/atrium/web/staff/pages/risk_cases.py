"""The analysts' case queue and one case (`risk.cases.view`), and what an analyst does with it
(`risk.cases.act`): release the held payment, confirm fraud, close as genuine — each with a note — and put
the case's device, card, payee, IP, … on a block, watch or allow list with an expiry.

Reads go through `atrium.staff.service.risk`, which masks the customer and records the read like the
customer 360 (the queue as one `customer.search`, a case as one `customer.view`). The queue refreshes in
place through htmx when a filter changes; the open-case count polls on its own, and reads no customer data.

Two analysts on one case: the risk service resolves a case exactly once (a conditional update), so the
second gets `CaseClosed`; the page then shows who resolved it and how, and nothing is done twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from atrium.db.runtime import get_db
from atrium.kit.errors import ValidationFailed
from atrium.kit.pagination import decode_cursor, encode_cursor
from atrium.risk import service as risk
from atrium.risk.errors import CaseClosed, CaseHeld, InvalidListEntry, ListEntryExists
from atrium.staff.service import risk as staff_risk
from atrium.web.deps import ReadOnlySession, WriteSession
from atrium.web.mobile import csrf
from atrium.web.mobile.templating import is_htmx, redirect
from atrium.web.staff.pages import risk_forms as forms
from atrium.web.staff.routing import ConsoleUser, StaffPageRoute, permit
from atrium.web.staff.templating import render, translator

router = APIRouter(route_class=StaffPageRoute)
VIEW, ACT = "risk.cases.view", "risk.cases.act"
HOME = "/staff/risk/cases"
CaseId = Annotated[str, Path(min_length=3, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]
Note = Annotated[str, Form(max_length=2000)]
STATUSES = ("open", "released", "confirmed", "closed")
OUTCOMES = ("review", "deny", "challenge", "allow")
CHANNELS = ("transfer", "qr", "card", "login", "device", "payee", "api")
RESOLUTIONS = {"release": risk.release_case, "confirm": risk.confirm_fraud, "close": risk.close_case}
LIST_KINDS = ("block", "watch", "allow")
# What a case can put on a list: the decision's entity (the subject kind's name in the risk domain).
SUBJECTS = {"device": "device", "card": "card", "payee": "payee", "ip": "ip", "account": "account",
            "merchant": "terminal", "customer": "customer"}


def _choice(value: str, allowed: tuple[str, ...], field: str) -> str | None:
    if value and value not in allowed:
        raise ValidationFailed(f"unknown {field}", field=field)
    return value or None


def _after(cursor: str) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    at, case_id = decode_cursor(cursor, size=2)
    try:
        return datetime.fromisoformat(str(at)), str(case_id)
    except ValueError:
        raise ValidationFailed("malformed cursor") from None


@router.get(HOME)
def queue_page(
    request: Request,
    user: Annotated[ConsoleUser, permit(VIEW)],
    session: WriteSession,
    status: Annotated[str, Query(max_length=12)] = "open",
    outcome: Annotated[str, Query(max_length=12)] = "",
    channel: Annotated[str, Query(max_length=12)] = "",
    cursor: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    filters = {"status": _choice(status, STATUSES, "status"),
               "outcome": _choice(outcome, OUTCOMES, "outcome"),
               "channel": _choice(channel, CHANNELS, "channel")}
    page = staff_risk.view_queue(session, staff_id=user.id, staff_role=user.role, after=_after(cursor),
                                 **filters)
    query = {k: v or "" for k, v in filters.items()}
    next_url = None
    if page.next_after is not None:
        at, last = page.next_after
        next_url = f"{HOME}?{urlencode({**query, 'cursor': encode_cursor([at.isoformat(), last])})}"
    t = translator(request)
    context = {"page": page, "filters": query, "next_url": next_url, "statuses": STATUSES,
               "outcomes": OUTCOMES, "channels": CHANNELS}
    if is_htmx(request):
        return render(request, "staff/risk/case_rows.html", **context,
                      announce=t("risk.queue.loaded", count=len(page.rows)))
    return render(request, "staff/risk/cases.html", title=t("risk.queue.title"), nav="risk", section="cases",
                  **context)


@router.get(HOME + "/counts")
def open_count(
    request: Request, user: Annotated[ConsoleUser, permit(VIEW)], session: ReadOnlySession
) -> Response:
    """The open-case count alone (polled by the queue): no customer data, so nothing to record."""
    return render(request, "staff/risk/case_count.html", open_count=risk.count_open(session))


def _rule_expressions(session: Session, hits: list[dict]) -> list[str]:  # type: ignore[type-arg]
    """The expressions of the rule versions that fired (live and shadow), to mark the features they read."""
    out = []
    for hit in hits:
        key, version = str(hit.get("key", "")), hit.get("version")
        out += [r.expression for r in risk.rule_versions(session, key) if r.version == version]
    return out


def case_view(
    request: Request, session: Session, user: ConsoleUser, case_id: str, *, status_code: int = 200,
    errors: dict[str, str] | None = None, values: dict[str, str] | None = None, done: str = "",
    conflict: str = "", reason: str = "",
) -> Response:
    """One case (also re-drawn with a refused action's errors or the conflict of a second analyst)."""
    view = staff_risk.view_case(session, staff_id=user.id, staff_role=user.role, case_id=case_id,
                                reason=reason or None)
    decision = view.detail.decision
    fired = forms.names_in(_rule_expressions(session, decision.rule_hits + decision.shadow_hits))
    t = translator(request)
    people = forms.names(session, [view.detail.case.resolved_by, view.detail.case.assignee,
                                   *(a.staff_id for a in view.detail.actions),
                                   *(lab.staff_id for lab in view.detail.labels)])
    subjects = [s for s, entity in SUBJECTS.items() if entity in decision.entities]
    if decision.customer_id and "payee" in decision.entities:
        subjects.append("pair")
    return render(
        request, "staff/risk/case.html", status_code=status_code,
        title=t("risk.case.title"), nav="risk", section="cases", view=view, d=decision,
        c=view.detail.case, groups=forms.feature_groups(decision.features, fired), people=people,
        subjects=subjects, list_kinds=LIST_KINDS, errors=errors or {},
        values={"note": "", "list_note": "", "expires_days": "30", "subject_kind": subjects[0] if subjects
                else "", "list_kind": "block", **(values or {})},
        done=done, conflict=conflict, case_reason=staff_risk.CASE_REASON,
    )


@router.get(HOME + "/{case_id}")
def case_page(
    request: Request,
    case_id: CaseId,
    user: Annotated[ConsoleUser, permit(VIEW)],
    session: WriteSession,
    done: Annotated[str, Query(max_length=16)] = "",
    reason: Annotated[str, Query(max_length=1000)] = "",
) -> Response:
    return case_view(request, session, user, case_id, done=done if done in (*RESOLUTIONS, "listed") else "",
                     reason=reason)


def _redraw(request: Request, user: ConsoleUser, case_id: str, status: int, **kw: object) -> Response:
    # A write transaction: drawing the case again is a read of the customer's data, recorded as such.
    return get_db().run(lambda s: case_view(request, s, user, case_id, status_code=status, **kw))  # type: ignore[arg-type]


@router.post(HOME + "/{case_id}/resolve", dependencies=[Depends(csrf.verify)])
def resolve(
    request: Request,
    case_id: CaseId,
    user: Annotated[ConsoleUser, permit(ACT)],
    action: Annotated[str, Form(pattern="^(release|confirm|close)$")],
    note: Note = "",
) -> Response:
    t = translator(request)
    try:
        text = forms.note_of(note)
        get_db().run(lambda s: RESOLUTIONS[action](s, case_id, user.id, text))
    except CaseClosed:
        return _redraw(request, user, case_id, 409, conflict=action)
    except (ValidationFailed, CaseHeld) as exc:
        return _redraw(request, user, case_id, exc.status, errors={"note": forms.words(t, exc)},
                       values={"note": note[:forms.NOTE_MAX]})
    return redirect(request, f"{HOME}/{case_id}?done={action}")


@router.post(HOME + "/{case_id}/list", dependencies=[Depends(csrf.verify)])
def add_to_list(
    request: Request,
    case_id: CaseId,
    user: Annotated[ConsoleUser, permit(ACT)],
    subject_kind: Annotated[str, Form(max_length=12)],
    list_kind: Annotated[str, Form(pattern="^(block|watch|allow)$")],
    expires_days: Annotated[str, Form(max_length=6)] = "",
    list_note: Note = "",
) -> Response:
    t = translator(request)
    typed = {"subject_kind": subject_kind, "list_kind": list_kind, "expires_days": expires_days,
             "list_note": list_note[:forms.NOTE_MAX]}
    try:
        if subject_kind not in (*SUBJECTS, "pair"):
            raise InvalidListEntry("choose what to put on the list", field="subject_kind",
                                   words="list.subject")
        expires_at = forms.expiry_of(expires_days)
        text = forms.note_of(list_note)
        get_db().run(lambda s: risk.block_from_case(s, case_id, user.id, subject_kind, list_kind=list_kind,
                                                    reason=text, expires_at=expires_at))
    except (ValidationFailed, ListEntryExists) as exc:
        field = str(exc.extra.get("field") or "list")
        field = {"note": "list_note"}.get(field, field)
        field = field if field in ("subject_kind", "expires_days", "list_note") else "list"
        return _redraw(request, user, case_id, exc.status, errors={field: forms.words(t, exc)}, values=typed)
    return redirect(request, f"{HOME}/{case_id}?done=listed")
