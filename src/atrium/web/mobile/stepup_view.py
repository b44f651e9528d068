"""The step-up challenge as a page: any form post whose use case raises `StepUpRequired` is answered with
this page instead (`routing.PageRoute`), carrying the original form's fields. Once the customer has
completed the challenge (an SMS code that names the action, an authenticator code, or a passkey), the page
posts the same fields again to the same address with the challenge in `step_up` — the use case then
consumes the grant, exactly once.

A challenge the anti-fraud decision asked for carries its reason codes: the page then asks "was this you?",
says why in the customer's words, warns about scams, and — for a transfer or a QR payment — offers "this
wasn't me", which posts the original form's fields to the not-me address (`NOT_ME`: `/transfer/not-me`,
`/pay/qr/not-me`) and so stops that very payment and reports it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response

from atrium.identity.errors import StepUpRequired
from atrium.payments import service as payments
from atrium.web.mobile.csrf import CSRF_FIELD
from atrium.web.mobile.templating import finish, is_htmx, render, translator

CARRY_PREFIX = "carry."
# Where a disowned challenge goes, by the address the challenged form posts to.
NOT_ME = {"/transfer/confirm": "/transfer/not-me", "/pay/qr/confirm": "/pay/qr/not-me"}
# What the customer is doing, for the reasons' wording ("this transfer", "this QR payment"): by the step-up
# action's first word (transfer, transfer.large → transfer); other actions are settings changes.
RISK_CHANNEL = {"transfer": "transfer", "qr": "qr", "payee": "payee", "order": "payee"}
NOT_CARRIED = frozenset({CSRF_FIELD, "step_up"})
MAX_CARRIED = 40


def safe_return(path: str) -> str:
    """Only a path on this site: never another origin."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def carried(form: Mapping[str, Any]) -> dict[str, str]:
    """The original form's text fields — not its CSRF token, an older challenge, or any password (a secret
    is never written into a page: the form asks for it again after the step-up)."""
    fields = {k: v for k, v in form.items()
              if isinstance(v, str) and k not in NOT_CARRIED and "password" not in k.lower()}
    return dict(list(fields.items())[:MAX_CARRIED])


def unprefixed(form: Mapping[str, Any]) -> dict[str, str]:
    return {
        k[len(CARRY_PREFIX) :]: v
        for k, v in form.items()
        if k.startswith(CARRY_PREFIX) and isinstance(v, str) and k[len(CARRY_PREFIX) :] not in NOT_CARRIED
    }


def challenge_page(
    request: Request,
    *,
    challenge: str,
    action: str,
    methods: list[str],
    summary: str,
    return_to: str,
    fields: Mapping[str, str],
    status_code: int = 401,
    code_sent: bool = False,
    error: str | None = None,
    done: bool = False,
    reasons: Sequence[str] = (),
) -> Response:
    t = translator(request)
    key = f"stepup.action.{action}"
    # What a scam looks like depends on the action: a QR payment's is a code someone sent, not an account.
    warning = f"risk.challenge.warning.{action}"
    if action == "limit.raise":
        # A switch change's summary names the switches: say them in the page's language.
        summary = ", ".join(t(f"limits.switch.{n}") if t.has(f"limits.switch.{n}") else n
                            for n in (part.strip() for part in summary.split(",")))
    return render(
        request,
        "pages/step_up.html",
        status_code=status_code,
        title=t("stepup.title"),
        action_label=t(key) if t.has(key) else action,
        challenge=challenge,
        action=action,
        methods=methods,
        summary=summary,
        return_to=safe_return(return_to),
        fields=dict(fields),
        code_sent=code_sent,
        error=error,
        done=done,
        carry_prefix=CARRY_PREFIX,
        risk_reasons=payments.risk_texts(list(reasons), t.locale,
                                         channel=RISK_CHANNEL.get(action.split(".")[0], "device")),
        not_me=NOT_ME.get(safe_return(return_to)) if reasons else None,
        risk_warning=t(warning) if t.has(warning) else t("risk.challenge.warning"),
    )


def from_error(request: Request, exc: StepUpRequired, form: Mapping[str, Any]) -> Response:
    extra = exc.extra
    if is_htmx(request):
        # A fragment swap cannot show a whole page: send the browser to the challenge page instead,
        # with the form's fields in the address (they are the form's own values, never a secret).
        query = {"challenge": str(extra.get("challenge", "")), "return_to": request.url.path}
        query.update({CARRY_PREFIX + k: v for k, v in carried(form).items()})
        return finish(
            request, Response(status_code=200, headers={"HX-Redirect": "/step-up?" + urlencode(query)})
        )
    return challenge_page(
        request,
        challenge=str(extra.get("challenge", "")),
        action=str(extra.get("action", "")),
        methods=list(extra.get("methods", [])),
        summary=str(extra.get("summary", "")),
        return_to=request.url.path,
        fields=carried(form),
        reasons=[str(r) for r in extra.get("reasons", []) or []],
    )
