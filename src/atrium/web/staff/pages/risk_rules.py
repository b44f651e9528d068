"""Expert rules in the console: the list (acting — live and shadow —, waiting for approval, past versions;
version, author, approver), one rule version with its history and a backtest, and the checker's decision.

Maker-checker, as the risk service enforces it (`atrium.risk.service.rules`):
- every change is a new version proposed by a maker (`risk.rules.propose`, the form in `risk_rule_form`),
  and a switch between shadow and live is such a change too: it proposes a copy in the other mode;
- a checker (`risk.rules.approve`) approves or rejects it; its author never sees the buttons and the
  service refuses the POST anyway (`SelfApproval`, 403). Approval needs a backtest: the checker runs one
  on the rule's page, and the approval re-runs it over the same window and keeps its figures in the
  version's decision note — what the checker saw is on the record;
- retiring a published rule stops it at once, by one maker (a misfiring rule must not wait for a second
  pair of eyes), with a reason kept on the version.
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
from atrium.risk import service as risk
from atrium.risk.errors import RuleSyntaxError, SelfApproval
from atrium.risk.schemas import BacktestRead, RuleRead
from atrium.web.deps import ReadOnlySession
from atrium.web.mobile import csrf
from atrium.web.mobile.templating import redirect
from atrium.web.staff.i18n import StaffTranslator
from atrium.web.staff.pages import risk_forms as forms
from atrium.web.staff.routing import ConsoleUser, StaffPageRoute, permit
from atrium.web.staff.templating import render, translator

router = APIRouter(route_class=StaffPageRoute)
VIEW, PROPOSE, APPROVE = "risk.rules.view", "risk.rules.propose", "risk.rules.approve"
HOME = "/staff/risk/rules"
RuleId = Annotated[str, Path(min_length=3, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]
Window = Annotated[str, Form(max_length=20)]
Note = Annotated[str, Form(max_length=2000)]
STATUSES = ("published", "proposed", "rejected", "retired")


def bucket(rule: RuleRead) -> str:
    """Where the list shows a version: live / shadow (published), proposed, or past (rejected, retired)."""
    if rule.status == "published":
        return rule.mode
    return "proposed" if rule.status == "proposed" else "past"


@router.get(HOME)
def rules_page(
    request: Request,
    user: Annotated[ConsoleUser, permit(VIEW)],
    session: ReadOnlySession,
    status: Annotated[str, Query(max_length=12)] = "",
    key: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    if status and status not in STATUSES:
        raise ValidationFailed("unknown status", field="status")
    rules = risk.list_rules(session, status=status or None, key=key.strip() or None)
    groups: dict[str, list[RuleRead]] = {"live": [], "shadow": [], "proposed": [], "past": []}
    for rule in rules:
        groups[bucket(rule)].append(rule)
    return render(
        request, "staff/risk/rules.html", title=translator(request)("risk.rules.title"), nav="risk_controls",
        section="rules", groups=groups, status=status, statuses=STATUSES, key=key.strip(),
        people=forms.names(session, [p for r in rules for p in (r.author, r.approver)]),
    )


def _backtest(t: StaffTranslator, session: Session, rule: RuleRead, since: str, until: str
              ) -> tuple[BacktestRead | None, dict[str, str]]:
    """The rule's backtest over the window the checker chose (none asked: none run)."""
    if not since and not until:
        return None, {}
    try:
        start, end = forms.window_of(since, until)
        return risk.backtest(session, rule.expression, start, end, action=rule.action,
                             weight=rule.weight), {}
    except ValidationFailed as exc:
        return None, {str(exc.extra.get("field") or "since"): forms.words(t, exc)}


def rule_view(
    request: Request, session: Session, user: ConsoleUser, rule_id: str, *, status_code: int = 200,
    since: str = "", until: str = "", errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None, sent: bool = False, decided: str = "",
) -> Response:
    rule = risk.get_rule(session, rule_id)
    versions = risk.rule_versions(session, rule.key)
    t = translator(request)
    result, window_errors = _backtest(t, session, rule, since, until)
    if not since and not until:
        since, until = forms.default_window()
    return render(
        request, "staff/risk/rule.html", status_code=status_code,
        title=t("risk.rule.title", key=rule.key), nav="risk_controls", section="rules",
        rule=rule, versions=versions, result=result, since=since, until=until,
        errors={**window_errors, **(errors or {})},
        values={"reason": "", "note": "", "retire_reason": "", **(values or {})},
        people=forms.names(session, [p for r in versions for p in (r.author, r.approver)]),
        mine=rule.author == user.id, sent=sent, decided=decided,
    )


@router.get(HOME + "/{rule_id}")
def rule_page(
    request: Request,
    rule_id: RuleId,
    user: Annotated[ConsoleUser, permit(VIEW)],
    session: ReadOnlySession,
    since: Annotated[str, Query(max_length=20)] = "",
    until: Annotated[str, Query(max_length=20)] = "",
    sent: Annotated[str, Query(max_length=3)] = "",
    decided: Annotated[str, Query(max_length=12)] = "",
) -> Response:
    return rule_view(request, session, user, rule_id, since=since, until=until, sent=sent == "1",
                     decided=decided if decided in ("approved", "rejected", "retired") else "")


def _redraw(request: Request, user: ConsoleUser, rule_id: str, status: int, **kw: object) -> Response:
    with get_db().read_session() as s:
        return rule_view(request, s, user, rule_id, status_code=status, **kw)  # type: ignore[arg-type]


def backtest_note(t_result: BacktestRead, start: datetime, end: datetime) -> str:
    """What the approval keeps of the backtest the checker saw (English, like every stored note's codes)."""
    precision = "-" if t_result.precision is None else f"{t_result.precision:.2%}"
    recall = "-" if t_result.recall is None else f"{t_result.recall:.2%}"
    return (f"backtest {start:%Y-%m-%d %H:%M}..{end:%Y-%m-%d %H:%M} UTC: fired {t_result.fired} of "
            f"{t_result.evaluated}, caught {t_result.fraud_caught} of {t_result.frauds} frauds, precision "
            f"{precision}, recall {recall}, outcomes changed {sum(t_result.changed.values())}")


@router.post(HOME + "/{rule_id}/approve", dependencies=[Depends(csrf.verify)])
def approve(
    request: Request, rule_id: RuleId, user: Annotated[ConsoleUser, permit(APPROVE)],
    since: Window = "", until: Window = "", note: Note = "",
) -> Response:
    def work(s: Session) -> None:
        rule = risk.get_rule(s, rule_id)
        if rule.author == user.id:  # before the backtest: the maker learns it at once
            raise SelfApproval("the author of a rule cannot approve it")
        start, end = forms.window_of(since, until)
        result = risk.backtest(s, rule.expression, start, end, action=rule.action, weight=rule.weight)
        text = forms.note_of(note, required=False)
        kept = "; ".join(p for p in (backtest_note(result, start, end), text) if p)
        risk.approve_rule(s, rule_id, user.id, kept)

    try:
        get_db().run(work)
    except (ValidationFailed, RuleSyntaxError) as exc:
        field = str(exc.extra.get("field") or "approve")
        return _redraw(request, user, rule_id, 422, since=since, until=until, values={"note": note[:500]},
                       errors={field if field in ("since", "until", "note") else "approve":
                               forms.words(translator(request), exc)})
    return redirect(request, f"{HOME}/{rule_id}?decided=approved")


@router.post(HOME + "/{rule_id}/reject", dependencies=[Depends(csrf.verify)])
def reject(
    request: Request, rule_id: RuleId, user: Annotated[ConsoleUser, permit(APPROVE)], reason: Note = "",
) -> Response:
    try:
        text = forms.note_of(reason)
    except ValidationFailed as exc:
        return _redraw(request, user, rule_id, 422, errors={"reason": forms.words(translator(request), exc)},
                       values={"reason": reason[:500]})
    get_db().run(lambda s: risk.reject_rule(s, rule_id, user.id, text))
    return redirect(request, f"{HOME}/{rule_id}?decided=rejected")


@router.post(HOME + "/{rule_id}/mode", dependencies=[Depends(csrf.verify)])
def switch_mode(
    request: Request, rule_id: RuleId, user: Annotated[ConsoleUser, permit(PROPOSE)],
    mode: Annotated[str, Form(pattern="^(live|shadow)$")], note: Note = "",
) -> Response:
    """Propose the rule's current version in the other mode: a new version, approved like any change."""
    def work(s: Session) -> RuleRead:
        rule = risk.get_rule(s, rule_id)
        return risk.set_rule_mode(s, rule.key, mode, user.id, forms.note_of(note, required=False))

    proposal = get_db().run(work)
    return redirect(request, f"{HOME}/{proposal.id}?{urlencode({'sent': '1'})}")


@router.post(HOME + "/{rule_id}/retire", dependencies=[Depends(csrf.verify)])
def retire(
    request: Request, rule_id: RuleId, user: Annotated[ConsoleUser, permit(PROPOSE)], reason: Note = "",
) -> Response:
    try:
        text = forms.note_of(reason)
    except ValidationFailed as exc:
        return _redraw(request, user, rule_id, 422, errors={"retire": forms.words(translator(request), exc)},
                       values={"retire_reason": reason[:500]})
    retired = get_db().run(lambda s: risk.retire_rule(s, risk.get_rule(s, rule_id).key, user.id, text))
    return redirect(request, f"{HOME}/{retired.id}?decided=retired")
