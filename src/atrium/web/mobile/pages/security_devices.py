"""Security → devices: the customer's bound devices (this one marked; trusted or not; cooling off until
when; last seen), renaming one, and removing one.

Removing a device is a sensitive change (step-up action "device.change", bound to the device id): the first
press answers with the challenge inline — an SMS code (sent on request) or an authenticator code — and the
confirmation completes the challenge, consumes the grant and removes the device in one transaction. A wrong
SMS code is counted again in a transaction of its own (the failed one rolls back), and confirmations are
rate limited per customer, so codes cannot be guessed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from atrium.db.runtime import get_db
from atrium.identity import sessions, stepup
from atrium.identity.devices import service as devices
from atrium.identity.devices.schemas import DeviceRead, DeviceRename
from atrium.identity.errors import StepUpRequired, StepUpUnavailable
from atrium.identity.otp.errors import InvalidCode
from atrium.identity.protection import ratelimit
from atrium.identity.service import Principal
from atrium.identity.tickets import TicketInvalid
from atrium.kit.errors import AtriumError, Conflict, RateLimited, ValidationFailed
from atrium.web.deps import CurrentCustomer, ReadOnlySession, attempt_credential
from atrium.web.mobile import csrf
from atrium.web.mobile.i18n import Translator
from atrium.web.mobile.routing import PageRoute
from atrium.web.mobile.templating import redirect, render, translator

router = APIRouter(route_class=PageRoute)
PAGE = "/security/devices"
ACTION = "device.change"
CONFIRM_LIMIT, CONFIRM_WINDOW_S = 10, 15 * 60  # step-up confirmations per customer per window

DeviceId = Annotated[str, Path(max_length=40, pattern=r"^dev_[0-9A-Z]+$")]
NOTICES = ("removed", "renamed")


@dataclass
class StepUpPanel:
    """The inline challenge under the device being removed."""

    device_id: str
    challenge: str
    methods: list[str]
    summary: str = ""
    sent: bool = False
    error: str = ""
    method: str = ""


def _views(session: Session, customer: Principal) -> list[DeviceRead]:
    """The customer's devices, this one first, then the most recently seen."""
    views = [d.model_copy(update={"current": d.id == customer.device_id})
             for d in devices.list_devices(session, customer.id)]
    return sorted(views, key=lambda d: not d.current)  # stable: keeps the service's order otherwise


def _page(
    request: Request, customer: Principal, *, status_code: int = 200, panel: StepUpPanel | None = None,
    notice: str = "", error: str = "", rename_errors: dict[str, str] | None = None,
    rename_values: dict[str, str] | None = None,
) -> Response:
    t = translator(request)
    with get_db().read_session() as session:
        views = _views(session, customer)
    return render(
        request, "pages/security/devices.html", status_code=status_code, title=t("devices.title"),
        tab="me", back="/settings", devices=views, panel=panel, notice=notice, error=error,
        rename_errors=rename_errors or {}, rename_values=rename_values or {},
    )


@router.get(PAGE)
def devices_page(request: Request, customer: CurrentCustomer, session: ReadOnlySession,
                 done: str = "") -> Response:
    session.close()
    notice = translator(request)(f"devices.notice.{done}") if done in NOTICES else ""
    return _page(request, customer, notice=notice)


@router.post(PAGE + "/{device_id}/rename", dependencies=[Depends(csrf.verify)])
def rename_device(
    request: Request, device_id: DeviceId, customer: CurrentCustomer,
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    t = translator(request)
    try:
        clean = DeviceRename(name=name).name
    except ValueError:
        return _page(request, customer, status_code=422, rename_errors={device_id: t("devices.rename.error")},
                     rename_values={device_id: name})
    get_db().run(lambda s: devices.rename(s, customer_id=customer.id, device_id=device_id, name=clean))
    return redirect(request, f"{PAGE}?done=renamed")


def _limit_confirmations(customer_id: str) -> None:
    get_db().run(lambda s: ratelimit.hit(s, f"stepup:{ACTION}:{customer_id}", limit=CONFIRM_LIMIT,
                                         window_s=CONFIRM_WINDOW_S))


def _remove(
    s: Session, customer: Principal, device_id: str, form: tuple[str, str, str], t: Translator
) -> None:
    step_up, method, code = form
    device = devices.get_device(s, customer.id, device_id)  # another's device: 404, before a challenge
    if step_up and code:
        stepup.complete(s, customer, step_up, method=method, code=code)
    stepup.require(s, customer, action=ACTION, elements={"device": device_id}, token=step_up or None,
                   summary=t("devices.stepup.summary", name=device.name)[:120])
    devices.revoke(s, customer_id=customer.id, device_id=device_id)
    sessions.revoke_for_device(s, customer.id, device_id, except_sid=customer.sid)


@router.post(PAGE + "/{device_id}/remove", dependencies=[Depends(csrf.verify)])
def remove_device(
    request: Request, device_id: DeviceId, customer: CurrentCustomer,
    step_up: Annotated[str, Form(max_length=4000)] = "",
    method: Annotated[str, Form(max_length=10)] = "",
    code: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """First press: the challenge. With the challenge and a code: complete it and remove the device."""
    t = translator(request)
    code = code.strip()
    panel = StepUpPanel(device_id=device_id, challenge=step_up, methods=_methods_of(customer, step_up),
                        method=method, sent=bool(step_up))
    if step_up and not code:
        panel.error = t("devices.stepup.code_missing")
        return _page(request, customer, status_code=422, panel=panel)
    try:
        if step_up:
            _limit_confirmations(customer.id)
        attempt_credential(
            lambda: get_db().run(lambda s: _remove(s, customer, device_id, (step_up, method, code), t))
        )
    except StepUpRequired as exc:
        extra: dict[str, Any] = exc.extra
        if step_up:  # the code did not complete this challenge: keep it, and say so
            panel.error = t("stepup.error.code")
            return _page(request, customer, status_code=401, panel=panel)
        panel = StepUpPanel(device_id=device_id, challenge=str(extra["challenge"]),
                            methods=list(extra.get("methods", [])), summary=str(extra.get("summary", "")))
        return _page(request, customer, panel=panel)
    except StepUpUnavailable:
        return _page(request, customer, status_code=403, error=t("stepup.unavailable"))
    except InvalidCode:
        panel.error = t("stepup.error.code")
        return _page(request, customer, status_code=401, panel=panel)
    except TicketInvalid:
        return _page(request, customer, status_code=401, error=t("stepup.error.expired"))
    except Conflict:
        return _page(request, customer, status_code=409, error=t("stepup.error.used"))
    except RateLimited:
        panel.error = t("stepup.error.too_many")
        return _page(request, customer, status_code=429, panel=panel)
    except ValidationFailed:
        panel.error = t("stepup.error.code")
        return _page(request, customer, status_code=422, panel=panel)
    return redirect(request, f"{PAGE}?done=removed")


def _methods_of(customer: Principal, token: str) -> list[str]:
    try:
        return list(stepup.read_challenge(customer, token).methods)
    except AtriumError:
        return []


@router.post(PAGE + "/{device_id}/remove/code", dependencies=[Depends(csrf.verify)])
def send_remove_code(
    request: Request, device_id: DeviceId, customer: CurrentCustomer,
    step_up: Annotated[str, Form(max_length=4000)],
) -> Response:
    """Send the SMS code for the removal's challenge (the text names the action)."""
    with get_db().read_session() as s:
        devices.get_device(s, customer.id, device_id)  # someone else's device: 404, as if there were none
    t = translator(request)
    methods = _methods_of(customer, step_up)
    panel = StepUpPanel(device_id=device_id, challenge=step_up, methods=methods, method="sms")
    try:
        get_db().run(lambda s: stepup.send_sms(s, customer, step_up, locale=t.locale))
        panel.sent = True
    except RateLimited:
        panel.error = t("stepup.error.too_many")
    except AtriumError:
        panel.error = t("stepup.error.expired")
        panel.methods = []
    return _page(request, customer, status_code=200 if not panel.error else 422, panel=panel)
