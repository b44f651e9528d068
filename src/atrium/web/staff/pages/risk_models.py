"""The model registry in the console (`risk.models.view`): every model with its role (champion acts,
challenger is scored in shadow), training window, labelled rows, holdout metrics (AUC, AP, CP@100) and
features; the champion and the challenger compared on the same recent traffic; a training run on a
window (`risk.models.manage`) and the promotion of a challenger to champion (`risk.models.approve`).

Two people, by role: the analysts who train a challenger (`manage`) cannot promote it; compliance, who
can promote (`approve`), cannot train one (`atrium.staff.permissions`). The risk service's `promote` has no
per-model request yet, so the separation is the roles' (an administrator holds both, as everywhere).

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
from atrium.risk.errors import NotEnoughLabels
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
Window = Annotated[str, Form(max_length=20)]
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
    return render(
        request, "staff/risk/models.html", status_code=status_code,
        title=translator(request)("risk.models.title"), nav="risk_controls", section="models", models=models,
        comparison=comparison, compare_days=COMPARE_DAYS, metric=metric, errors=errors or {}, done=done,
        values={"since": train_since, "until": train_until, **(values or {})},
    )


@router.get(HOME)
def models_page(
    request: Request, user: Annotated[ConsoleUser, permit(VIEW)], session: ReadOnlySession,
    done: Annotated[str, Query(max_length=12)] = "",
) -> Response:
    return models_view(request, session, done=done if done in ("trained", "promoted") else "")


@router.post(HOME + "/train", dependencies=[Depends(csrf.verify)])
def train(
    request: Request, user: Annotated[ConsoleUser, permit(MANAGE)], since: Window = "", until: Window = "",
) -> Response:
    try:
        start, end = forms.window_of(since, until)
        get_db().run(lambda s: risk.train(s, start, end, clock.now()))
    except (ValidationFailed, NotEnoughLabels) as exc:
        field = str(exc.extra.get("field") or "train")
        with get_db().read_session() as s:
            return models_view(request, s, status_code=exc.status, values={"since": since, "until": until},
                               errors={field: forms.words(translator(request), exc)})
    return redirect(request, f"{HOME}?done=trained")


@router.post(HOME + "/{model_id}/promote", dependencies=[Depends(csrf.verify)])
def promote(request: Request, model_id: ModelId, user: Annotated[ConsoleUser, permit(APPROVE)]) -> Response:
    """The challenger becomes the champion (the service retires the old one; who did it is logged)."""
    get_db().run(lambda s: risk.promote(s, model_id, user.id))
    return redirect(request, f"{HOME}?done=promoted")
