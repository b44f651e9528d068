"""Proposing a rule (`risk.rules.propose`): the expression editor, a backtest of the draft before it is
sent, and the proposal itself — a new version waiting for a second person (see `risk_rules`).

A refused expression comes back next to its field with the rule language's own message and a marker at
the position it names (`RuleSyntaxError.position`); a refused definition (key, weight, reason code) next
to the field it is about. Nothing is stored until the expression compiles.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from atrium.db.runtime import get_db
from atrium.kit.errors import ValidationFailed
from atrium.risk import service as risk
from atrium.risk.errors import RuleDefinitionError, RuleSyntaxError
from atrium.risk.schemas import BacktestRead, RuleCreate
from atrium.web.deps import ReadOnlySession
from atrium.web.mobile import csrf
from atrium.web.mobile.templating import redirect
from atrium.web.staff.i18n import StaffTranslator
from atrium.web.staff.pages import risk_forms as forms
from atrium.web.staff.pages.risk_rules import HOME, PROPOSE
from atrium.web.staff.routing import ConsoleUser, StaffPageRoute, permit
from atrium.web.staff.templating import render, translator

router = APIRouter(route_class=StaffPageRoute)
ACTIONS = ("score", "challenge", "review", "deny", "allow")
FIELDS = ("key", "expression", "action", "weight", "reason", "mode", "note")
# A definition error names its field in its first words ("rule key …", "rule weight …").
_DEFINITION_FIELDS = {"rule key": "key", "rule weight": "weight", "rule reason": "reason",
                      "rule action": "action", "rule mode": "mode"}


def _blank(**values: str) -> dict[str, str]:
    return {"key": "", "expression": "", "action": "review", "weight": "0.1", "reason": "", "mode": "shadow",
            "note": "", **values}


def _pointer(expression: str, position: int) -> tuple[str, str, str]:
    """The expression split around the character a compile error points at (a space past the end)."""
    at = max(0, min(position, len(expression)))
    return expression[:at], expression[at:at + 1] or " ", expression[at + 1:]


Pointer = tuple[str, str, str]


def form_view(request: Request, *, values: dict[str, str], status_code: int = 200,
              errors: dict[str, str] | None = None, pointer: Pointer | None = None,
              result: BacktestRead | None = None, since: str = "", until: str = "",
              based_on: str = "") -> Response:
    if not since and not until:
        since, until = forms.default_window()
    return render(
        request, "staff/risk/rule_form.html", status_code=status_code,
        title=translator(request)("risk.rule_form.title"), nav="risk_controls", section="rules",
        values=values, errors=errors or {}, pointer=pointer, result=result, since=since, until=until,
        actions=ACTIONS, vocabulary=risk.rule_vocabulary(), based_on=based_on,
    )


@router.get(HOME + "/new")
def new_rule(
    request: Request, user: Annotated[ConsoleUser, permit(PROPOSE)], session: ReadOnlySession,
    based_on: Annotated[str, Query(alias="from", max_length=40, pattern=r"^[A-Za-z0-9_]*$")] = "",
) -> Response:
    if not based_on:
        return form_view(request, values=_blank())
    rule = risk.get_rule(session, based_on)
    return form_view(request, based_on=rule.id, values=_blank(
        key=rule.key, expression=rule.expression, action=rule.action, weight=f"{rule.weight:g}",
        reason=rule.reason, mode=rule.mode))


def _parse(t: StaffTranslator, values: dict[str, str]) -> tuple[RuleCreate | None, dict[str, str]]:
    try:
        weight = float(values["weight"].strip() or "0")
    except ValueError:
        return None, {"weight": "weight: a number from -1 to 1"}
    if not math.isfinite(weight):
        return None, {"weight": "weight: a number from -1 to 1"}
    try:
        body = RuleCreate(key=values["key"].strip(), expression=values["expression"].strip(),
                          action=values["action"], weight=weight, reason=values["reason"].strip(),  # type: ignore[arg-type]
                          mode=values["mode"], note=forms.note_of(values["note"], required=False))  # type: ignore[arg-type]
    except ValidationFailed as exc:
        return None, {"note": forms.words(t, exc)}
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "form"
        return None, {field if field in FIELDS else "form": f"{field}: {first['msg']}"}
    return body, {}


def _refused(t: StaffTranslator, exc: ValidationFailed, values: dict[str, str]
             ) -> tuple[dict[str, str], Pointer | None]:
    """(field → message, the pointer into the expression) for a refusal of the rule language."""
    if isinstance(exc, RuleSyntaxError):
        return {"expression": exc.message}, _pointer(values["expression"].strip(), exc.position)
    if isinstance(exc, RuleDefinitionError):
        field = next((f for start, f in _DEFINITION_FIELDS.items() if exc.detail.startswith(start)), "form")
        return {field: exc.detail}, None
    return {str(exc.extra.get("field") or "form"): forms.words(t, exc)}, None


Text = Annotated[str, Form(max_length=2000)]
Short = Annotated[str, Form(max_length=100)]


def _typed(key: str, expression: str, action: str, weight: str, reason: str, mode: str,
           note: str) -> dict[str, str]:
    return {"key": key, "expression": expression, "action": action if action in ACTIONS else "review",
            "weight": weight, "reason": reason, "mode": mode if mode in ("live", "shadow") else "shadow",
            "note": note}


@router.post(HOME + "/backtest", dependencies=[Depends(csrf.verify)])
def backtest_draft(
    request: Request, user: Annotated[ConsoleUser, permit(PROPOSE)],
    key: Short = "", expression: Text = "", action: Short = "review", weight: Short = "0", reason: Short = "",
    mode: Short = "shadow", note: Text = "", since: Short = "", until: Short = "", based_on: Short = "",
) -> Response:
    """Run the draft over logged decisions (a read: nothing is stored) and draw the form again with it."""
    values = _typed(key, expression, action, weight, reason, mode, note)
    t = translator(request)
    body, errors = _parse(t, {**values, "key": values["key"] or "draft"})
    if body is None:
        return form_view(request, values=values, status_code=422, errors=errors, since=since, until=until,
                         based_on=based_on)
    try:
        start, end = forms.window_of(since, until)
        with get_db().read_session() as s:
            result = risk.backtest(s, body.expression, start, end, action=body.action, weight=body.weight)
    except ValidationFailed as exc:
        refused, pointer = _refused(t, exc, values)
        return form_view(request, values=values, status_code=422, errors=refused, pointer=pointer,
                         since=since, until=until, based_on=based_on)
    return form_view(request, values=values, result=result, since=since, until=until, based_on=based_on)


@router.post(HOME, dependencies=[Depends(csrf.verify)])
def propose(
    request: Request, user: Annotated[ConsoleUser, permit(PROPOSE)],
    key: Short = "", expression: Text = "", action: Short = "review", weight: Short = "0", reason: Short = "",
    mode: Short = "shadow", note: Text = "", since: Short = "", until: Short = "", based_on: Short = "",
) -> Response:
    values = _typed(key, expression, action, weight, reason, mode, note)
    t = translator(request)
    body, errors = _parse(t, values)
    if body is None:
        return form_view(request, values=values, status_code=422, errors=errors, since=since, until=until,
                         based_on=based_on)
    try:
        rule: Any = get_db().run(lambda s: risk.propose_rule(s, user.id, body))
    except ValidationFailed as exc:
        refused, pointer = _refused(t, exc, values)
        return form_view(request, values=values, status_code=422, errors=refused, pointer=pointer,
                         since=since, until=until, based_on=based_on)
    return redirect(request, f"{HOME}/{rule.id}?sent=1")
