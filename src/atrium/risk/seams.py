"""Risk's assessors in identity's seams: sign-ins, device and credential changes, new payees and mandates
pass the risk decision without identity knowing about risk (identity sits below it).

- `identity.login.register_sign_in_assessor`: every sign-in, just before its session opens — channel
  "login", or "device" when it would bind a new device.
- `identity.stepup.register_assessor`: the sensitive actions below (channels "device" and "payee"). Money
  movements are not assessed here: payments screens them itself, with all their facts, and hands its
  opinion to the step-up.

An outcome becomes an opinion: allow → none; challenge or review → a level-3 step-up with the reason codes
(nothing waits in a queue for a sign-in or a settings change: the customer proves it is them, and a
review's case still reaches an analyst); deny → refused. When the risk service itself fails, the channel's
fail policy gives the outcome. Each attempt is its own subject: a sign-in attempt, or (session, action,
elements) for an action, so the retry after the step-up gets the first decision back.

`install()` registers both, once per process (the app calls it at start-up); `uninstall()` for tests.

`public_code` is what a customer or an API client may see of a reason: catalogued behaviours as they
are, lists and rules only by family — which list matched, or which rule, would tell a fraudster what to
change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping

from sqlalchemy.orm import Session

from atrium.identity import login, stepup
from atrium.identity.principal import Principal
from atrium.kit.errors import AtriumError
from atrium.logs import get_logger
from atrium.risk import service as risk
from atrium.risk.domain import reasons
from atrium.risk.domain.decide import policy_for
from atrium.risk.schemas import RiskEventIn

log = get_logger("atrium.risk.seams")

# The step-up actions risk assesses, and the channel each is decided on.
ACTION_CHANNELS: dict[str, str] = {
    "device.change": "device",
    "passkey.add": "device",
    "passkey.remove": "device",
    "totp.add": "device",
    "totp.remove": "device",
    "password.change": "device",
    "limit.raise": "device",
    "payee.add": "payee",
    "order.create": "payee",
}
CHALLENGE_LEVEL = 3

_removers: list[Callable[[], None]] = []


def public_code(code: str, params: Mapping[str, object] | None = None) -> str:
    """The reason code shown outside the bank (see the module docstring)."""
    feature = (params or {}).get("feature")
    if code == "model.high_score" and isinstance(feature, str):
        return reasons.behaviour_of(feature)
    if code in reasons.CUSTOMER:
        return code
    parts = code.split(".")
    if parts[0] == "list" and len(parts) >= 2:
        return f"list.{parts[1]}"
    return "rule.triggered" if parts[0] == "rule" else "score.threshold"


def _opinion(outcome: str, codes: tuple[str, ...]) -> stepup.RiskOpinion | None:
    if outcome == "allow":
        return None
    return stepup.RiskOpinion(level=CHALLENGE_LEVEL, reasons=codes, deny=outcome == "deny")


def _decide(session: Session, event: RiskEventIn) -> stepup.RiskOpinion | None:
    try:
        with session.begin_nested():  # a failing risk service must not poison the caller's transaction
            decision = risk.screen(session, event)
    except AtriumError:
        raise
    except Exception:
        outcome = policy_for(event.channel, risk.channel_policies()).on_timeout
        log.exception("risk_seam_failed", channel=event.channel, fail_policy=outcome)
        return _opinion(outcome, ("risk.unavailable",))
    return _opinion(decision.outcome, tuple(dict.fromkeys(public_code(r.code, r.params)
                                                          for r in decision.reasons)))


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:48]


def assess_sign_in(session: Session, attempt: login.SignInAttempt) -> stepup.RiskOpinion | None:
    """A sign-in about to open a session (see the module docstring)."""
    event = RiskEventIn(
        channel="device" if attempt.new_device else "login",
        subject_ref=f"lga:{_digest(attempt.attempt_id)}",
        customer_id=attempt.customer_id, device_id=attempt.device_id, ip=attempt.client.ip or None,
    )
    return _decide(session, event)


def assess_action(
    session: Session, principal: Principal, action: str, elements: Mapping[str, str]
) -> stepup.RiskOpinion | None:
    """A sensitive action of a signed-in customer (see the module docstring)."""
    channel = ACTION_CHANNELS.get(action)
    if channel is None or principal.kind != "customer":
        return None
    payee = elements.get("payee") or (
        f"{elements['bank']}:{elements['account']}" if "bank" in elements and "account" in elements else None
    )
    amount = elements.get("amount_minor", "0")
    currency = elements.get("currency", "CNY")
    event = RiskEventIn(
        channel=channel,  # type: ignore[arg-type]
        subject_ref=f"act:{_digest(principal.sid or principal.id, action, stepup.digest(elements))}",
        customer_id=principal.id, device_id=principal.device_id, payee_ref=payee,
        amount_minor=int(amount) if amount.isdigit() else 0, currency=currency,
    )
    return _decide(session, event)


def install() -> None:
    """Register risk's assessors with identity (idempotent: once per process)."""
    if _removers:
        return
    _removers.append(login.register_sign_in_assessor(assess_sign_in))
    _removers.append(stepup.register_assessor(assess_action))


def uninstall() -> None:
    while _removers:
        _removers.pop()()
