"""The model registry in the console (`risk.models.view`): every model with its role (champion acts,
challenger is scored in shadow), training window, labelled rows, holdout metrics (AUC, AP, CP@100) and
features; the champion and the challenger compared on the same recent traffic; a training run on a
window (`risk.models.manage`); and the promotion of a challenger to champion, by two people.

Promotion is maker-checker per person (`atrium.risk.service.registry`, roles in
`atrium.staff.service.risk`): an analyst who trains models or a compliance officer asks for it with a
reason; a *different* compliance officer (`risk.models.approve`) approves — the model becomes champion —
or rejects it with a note. Whoever asked sees no approve or reject buttons on their own request, and the
service refuses their POST anyway (`PromotionSelfApproval`, 403). The requests, with who asked, why, and
who decided, are listed under the models: the promotion's audit trail.

Training runs in the request: it learns from the feature log of the window with only the labels that
have arrived (the risk service's `train`), bounded to two threads; the scheduled `risk.retrain` job does
the same weekly. The new model is a challenger — it acts only once promoted.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from atrium.db.runtime import get_db
from atrium.kit import clock
from atrium.kit.errors import ValidationFailed
from atrium.risk import service as risk
from atrium.risk.errors import NotEnoughLabels, PromotionNotFound
from atrium.staff.service import risk as staff_risk
from atrium.web.deps import ReadOnlySession
from atrium.web.mobile import csrf
from atrium.web.mobile.templating import redirect
from atrium.web.staff.pages import risk_forms as forms
from atrium.web.staff.routing import ConsoleUser, StaffPageRoute, permit
from atrium.web.staff.templating import render, translator

router = APIRouter(route_class=StaffPageRoute)
VIEW, MANAGE, APPROVE = "risk.models.view", "risk.models.manage", "risk.models.approve"
HOME = "/staff/risk/models"
ModelId = Annotated[str, Path(min_length=3, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]
PromotionId = Annotated[str, Form(max_length=40)]
Window = Annotated[str, Form(max_length=20)]
Note = Annotated[str, Form(max_length=2000)]
DONE = ("trained", "requested", "promoted", "rejected")
PROMOTIONS_SHOWN = 20
COMPARE_DAYS = 30
TRAIN_DAYS = 28


def metric(metrics: dict[str, object], name: str) -> float | None:
    """A holdout metric by name (auc, ap, cp100), wherever the registry put it."""
    for key in (f"holdout_{name}", name):
        value = metrics.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def models_view(request: Request, session: Session, *, status_code: int = 200,
                errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                done: str = "") -> Response:
    models = risk.list_models(session)
    now = clock.now()
    since, until = forms.default_window(COMPARE_DAYS)
    start, end = forms.window_of(since, until)
    comparison = risk.compare_models(session, start, end, as_of=now)
    train_since, train_until = forms.default_window(TRAIN_DAYS)
    promotions = risk.list_promotions(session, limit=PROMOTIONS_SHOWN)
    pending = {p.model_id: p for p in risk.list_promotions(session, status="pending")}
    return render(
        request, "staff/risk/models.html", status_code=status_code,
        title=translator(request)("risk.models.title"), nav="risk_controls", section="models", models=models,
        comparison=comparison, compare_days=COMPARE_DAYS, metric=metric, errors=errors or {}, done=done,
        values={"since": train_since, "until": train_until, **(values or {})},
        promotions=promotions, pending=pending,
        people=forms.names(session, [p for r in [*promotions, *pending.values()]
                                     for p in (r.requested_by, r.decided_by)]),
    )


def _redraw(request: Request, status: int, **kw: object) -> Response:
    with get_db().read_session() as s:
        return models_view(request, s, status_code=status, **kw)  # type: ignore[arg-type]


@router.get(HOME)
def models_page(
    request: Request, user: Annotated[ConsoleUser, permit(VIEW)], session: ReadOnlySession,
    done: Annotated[str, Query(max_length=12)] = "",
) -> Response:
    return models_view(request, session, done=done if done in DONE else "")


@router.post(HOME + "/train", dependencies=[Depends(csrf.verify)])
def train(
    request: Request, user: Annotated[ConsoleUser, permit(MANAGE)], since: Window = "", until: Window = "",
) -> Response:
    try:
        start, end = forms.window_of(since, until)
        get_db().run(lambda s: risk.train(s, start, end, clock.now()))
    except (ValidationFailed, NotEnoughLabels) as exc:
        field = str(exc.extra.get("field") or "train")
        return _redraw(request, exc.status, values={"since": since, "until": until},
                       errors={field: forms.words(translator(request), exc)})
    return redirect(request, f"{HOME}?done=trained")


@router.post(HOME + "/{model_id}/request-promotion", dependencies=[Depends(csrf.verify)])
def request_promotion(
    request: Request, model_id: ModelId, user: Annotated[ConsoleUser, permit(VIEW)], reason: Note = "",
) -> Response:
    """Ask for the challenger to become the champion (a reason is required); a second person decides.
    Who may ask (trainers and compliance) is the staff service's check, beyond viewing the registry."""
    try:
        text = forms.note_of(reason)
    except ValidationFailed as exc:
        return _redraw(request, 422, values={f"reason_{model_id}": reason[:500]},
                       errors={f"reason_{model_id}": forms.words(translator(request), exc)})
    get_db().run(lambda s: staff_risk.request_model_promotion(
        s, staff_id=user.id, staff_role=user.role, model_id=model_id, reason=text))
    return redirect(request, f"{HOME}?done=requested")


def _decide(user: ConsoleUser, model_id: str, promotion_id: str, *, approve: bool, note: str) -> None:
    def work(s: Session) -> None:
        # The request the checker saw, for the model whose form it was: never another one that replaced it.
        if risk.get_promotion(s, promotion_id).model_id != model_id:
            raise PromotionNotFound(f"no promotion request {promotion_id} for model {model_id}")
        staff_risk.decide_model_promotion(s, staff_id=user.id, staff_role=user.role,
                                          promotion_id=promotion_id, approve=approve, note=note)

    get_db().run(work)


@router.post(HOME + "/{model_id}/promote", dependencies=[Depends(csrf.verify)])
def promote(
    request: Request, model_id: ModelId, user: Annotated[ConsoleUser, permit(APPROVE)],
    promotion_id: PromotionId = "", note: Note = "",
) -> Response:
    """Approve another person's request: the challenger becomes the champion, the old one is retired."""
    try:
        text = forms.note_of(note, required=False)
    except ValidationFailed as exc:
        return _redraw(request, 422, errors={f"decide_{model_id}": forms.words(translator(request), exc)})
    _decide(user, model_id, promotion_id, approve=True, note=text)
    return redirect(request, f"{HOME}?done=promoted")


@router.post(HOME + "/{model_id}/reject-promotion", dependencies=[Depends(csrf.verify)])
def reject_promotion(
    request: Request, model_id: ModelId, user: Annotated[ConsoleUser, permit(APPROVE)],
    promotion_id: PromotionId = "", note: Note = "",
) -> Response:
    """Turn another person's request down, saying why; the model stays a challenger."""
    try:
        text = forms.note_of(note)
    except ValidationFailed as exc:
        return _redraw(request, 422, values={f"note_{model_id}": note[:500]},
                       errors={f"decide_{model_id}": forms.words(translator(request), exc)})
    _decide(user, model_id, promotion_id, approve=False, note=text)
    return redirect(request, f"{HOME}?done=rejected")
