"""Step-up: each sensitive action demands a level of assurance; a session below it gets a challenge.

Levels: 1 and 2 are session levels (`sessions.level_of`). Level 3 is a *grant*: a second factor completed
in the last `GRANT_TTL`, bound to the action's elements (payee, amount, currency, …) by their digest and
consumed by the one action it was made for — PSD2's "dynamic linking".

The flow (RFC 9470's step-up challenge, plus the grant):
1. `require(...)` finds the session short of the action's level and raises `StepUpRequired` (401,
   `WWW-Authenticate: Bearer error="insufficient_user_authentication"`) carrying a signed challenge: who,
   which session, which action, the elements' digest, the level and the methods the customer can use.
2. The client completes it (`complete`): an SMS code sent for this challenge (its text names the action),
   a TOTP code, or a passkey assertion whose WebAuthn challenge is derived from this challenge.
3. The client repeats the action with the challenge (`Atrium-Step-Up` header or `step_up` form field);
   `require` consumes the grant in the action's own transaction — if the action rolls back, the grant
   is still there; if it commits, the grant is gone.

The risk seam: assessors registered with `register_assessor` see every sensitive action and may raise the
level demanded (e.g. the anti-fraud engine answering "challenge"), narrow the methods (passkey only) or
refuse the action outright (`deny`: `ActionRefused`, 403). A caller that decided the risk itself (payments
screens a transfer with all its facts) hands its opinion to `require(opinion=...)` instead. The opinion's
reason codes travel in the challenge, so the page can say why it asks ("was this you?").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from atrium.identity import service, sessions, tickets
from atrium.identity.errors import ActionRefused, StepUpRequired, StepUpUnavailable
from atrium.identity.models import Customer, StepUpGrant
from atrium.identity.otp import service as otp
from atrium.identity.otp import totp
from atrium.identity.passkeys import service as passkeys
from atrium.identity.principal import Principal
from atrium.kit import clock
from atrium.kit.errors import Conflict, Forbidden, ValidationFailed

CHALLENGE = "step-up"
CHALLENGE_TTL = timedelta(minutes=5)
GRANT_TTL = timedelta(minutes=5)
HEADER = "Atrium-Step-Up"
METHODS = ("sms", "otp", "passkey")

# What each sensitive action demands. Anything not listed needs only a signed-in session.
POLICY: dict[str, int] = {
    "transfer": 2,  # any money movement needs a multi-factor session
    "transfer.large": 3,  # above LARGE_TRANSFER: a grant bound to payee, amount and currency
    "payee.add": 3,
    "order.create": 3,  # a scheduled or standing order to someone else: a mandate for future payments
    "limit.raise": 3,  # raising an own limit or switching a payment channel on
    "password.change": 3,
    "device.change": 3,  # removing or renaming a trusted device
    "totp.remove": 3,
    "passkey.add": 2,
    "totp.add": 2,
    "passkey.remove": 3,
    "sessions.revoke": 2,
}

# Transfers at or above these amounts (minor units) demand a bound grant; other currencies use DEFAULT.
LARGE_TRANSFER: dict[str, int] = {
    "CNY": 5_000_00,
    "HKD": 5_000_00,
    "USD": 1_000_00,
    "EUR": 1_000_00,
    "GBP": 1_000_00,
    "JPY": 150_000,
}
LARGE_TRANSFER_DEFAULT = 1_000_00


@dataclass(frozen=True)
class RiskOpinion:
    """What a risk assessor asks for: at least `level`, optionally only some `methods`, and why (reason
    codes). `deny`: refuse the action whatever the customer proves."""

    level: int
    methods: tuple[str, ...] | None = None
    reasons: tuple[str, ...] = ()
    deny: bool = False


Assessor = Callable[[Session, Principal, str, Mapping[str, str]], RiskOpinion | None]
_assessors: list[Assessor] = []


def register_assessor(assessor: Assessor) -> Callable[[], None]:
    """Add a risk assessor; returns a function that removes it again."""
    _assessors.append(assessor)
    return lambda: _assessors.remove(assessor)


@dataclass(frozen=True)
class Requirement:
    level: int
    methods: tuple[str, ...]
    reasons: tuple[str, ...] = ()
    deny: bool = False


MAX_REASONS = 8  # reason codes carried in a challenge (it is a signed token: keep it small)


def is_large_transfer(amount_minor: int, currency: str) -> bool:
    return amount_minor >= LARGE_TRANSFER.get(currency, LARGE_TRANSFER_DEFAULT)


def digest(elements: Mapping[str, str]) -> str:
    canonical = json.dumps(
        {k: str(v) for k, v in elements.items()}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def available_methods(session: Session, customer: Customer) -> tuple[str, ...]:
    methods = []
    if customer.phone_enc:
        methods.append("sms")
    if totp.is_enrolled(session, customer.id):
        methods.append("otp")
    if passkeys.has_passkey(session, customer.id):
        methods.append("passkey")
    return tuple(methods)


def requirement(
    session: Session, principal: Principal, action: str, elements: Mapping[str, str],
    opinion: RiskOpinion | None = None,
) -> Requirement:
    """The policy's level, raised by `opinion` (the caller's own risk decision) and every assessor."""
    level, methods, reasons, deny = POLICY.get(action, 1), METHODS, (), False
    opinions = [opinion] if opinion is not None else []
    opinions += [assessor(session, principal, action, elements) for assessor in list(_assessors)]
    for o in opinions:
        if o is None:
            continue
        level = max(level, o.level)
        if o.methods is not None:
            methods = tuple(m for m in methods if m in o.methods)
        reasons = reasons + tuple(r for r in o.reasons if r not in reasons)
        deny = deny or o.deny
    return Requirement(level=level, methods=methods, reasons=reasons, deny=deny)


def require(
    session: Session,
    principal: Principal,
    *,
    action: str,
    elements: Mapping[str, str] | None = None,
    token: str | None = None,
    summary: str = "",
    opinion: RiskOpinion | None = None,
) -> None:
    """Return when the caller's assurance suffices for `action` (consuming a level-3 grant), else raise
    StepUpRequired with a challenge. `summary` is what the customer is asked to confirm ("转账 ¥6,000.00
    至 …1234"): it goes into the SMS text and onto the challenge page. `opinion`: the caller's own risk
    decision about this action, combined with the registered assessors'. A denying opinion raises
    ActionRefused (403) with its reason codes; no factor can lift it."""
    if principal.kind != "customer":
        raise Forbidden("step-up is for customers")
    elements = dict(elements or {})
    need = requirement(session, principal, action, elements, opinion)
    if need.deny:
        raise ActionRefused(f"this action ({action}) was refused for your protection", action=action,
                            reasons=list(need.reasons))
    if need.level <= 2 and principal.loa >= need.level:
        return
    dig = digest(elements)
    if token and need.level >= 3 and _consume(session, principal, token, action=action, dig=dig):
        return
    if token and need.level <= 2:
        # The challenge was completed and raised the session: read the level afresh.
        live = sessions.principal_for_sid(session, principal.sid or "")
        if live is not None and live.loa >= need.level:
            return
    _challenge(session, principal, action=action, dig=dig, need=need, summary=summary)


def _challenge(
    session: Session, principal: Principal, *, action: str, dig: str, need: Requirement, summary: str
) -> None:
    customer = service.get_customer(session, principal.id)
    if customer is None:
        raise Forbidden("the customer no longer exists")
    methods = tuple(m for m in available_methods(session, customer) if m in need.methods)
    if not methods:
        raise StepUpUnavailable(
            "this action needs a second factor and none is set up: add a phone, an authenticator app or "
            "a passkey in the security centre",
            action=action,
            level=need.level,
        )
    challenge = tickets.issue(
        CHALLENGE,
        {
            "sub": principal.id,
            "sid": principal.sid,
            "act": action,
            "dig": dig,
            "lvl": need.level,
            "mth": list(methods),
            "sum": summary[:120],
            "rsn": list(need.reasons[:MAX_REASONS]),
        },
        ttl=CHALLENGE_TTL,
    )
    raise StepUpRequired(
        f"confirm this action ({action}) with a second factor",
        challenge=challenge,
        action=action,
        level=need.level,
        acr_values=sessions.acr_of(need.level),
        methods=list(methods),
        summary=summary,
        reasons=list(need.reasons),
    )


def _consume(session: Session, principal: Principal, token: str, *, action: str, dig: str) -> bool:
    try:
        claims = tickets.read(CHALLENGE, token)
    except tickets.TicketInvalid:
        return False
    if claims.get("sub") != principal.id or claims.get("act") != action or claims.get("dig") != dig:
        return False
    result = session.execute(
        update(StepUpGrant)
        .where(
            StepUpGrant.challenge_id == claims["jti"],
            StepUpGrant.customer_id == principal.id,
            StepUpGrant.digest == dig,
            StepUpGrant.action == action,
            StepUpGrant.consumed_at.is_(None),
            StepUpGrant.completed_at > clock.now() - GRANT_TTL,
        )
        .values(consumed_at=clock.now())
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Challenge:
    id: str
    action: str
    level: int
    methods: tuple[str, ...]
    summary: str
    reasons: tuple[str, ...] = ()  # why a risk assessor asked (reason codes), shown on the page


def read_challenge(principal: Principal, token: str) -> Challenge:
    claims = tickets.read(CHALLENGE, token)
    if claims.get("sub") != principal.id or claims.get("sid") != principal.sid:
        raise tickets.TicketInvalid("the challenge belongs to another session")
    return Challenge(
        id=str(claims["jti"]),
        action=str(claims["act"]),
        level=int(claims["lvl"]),
        methods=tuple(claims.get("mth", ())),
        summary=str(claims.get("sum", "")),
        reasons=tuple(str(r) for r in claims.get("rsn", ())),
    )


def send_sms(session: Session, principal: Principal, token: str, *, locale: str = "zh") -> otp.IssuedCode:
    challenge = read_challenge(principal, token)
    if "sms" not in challenge.methods:
        raise ValidationFailed("an SMS code cannot complete this challenge")
    customer = service.get_customer(session, principal.id)
    phone = service.phone_of(customer) if customer else None
    if phone is None:
        raise ValidationFailed("there is no phone on file")
    return otp.issue(
        session,
        phone=phone,
        purpose="step-up",
        customer_id=principal.id,
        binding=challenge.id,
        summary=challenge.summary,
        locale=locale,
    )


def passkey_options(session: Session, principal: Principal, token: str, *, rp_id: str) -> dict:  # type: ignore[type-arg]
    challenge = read_challenge(principal, token)
    if "passkey" not in challenge.methods:
        raise ValidationFailed("a passkey cannot complete this challenge")
    return passkeys.authentication_options(session, rp_id=rp_id, customer_id=principal.id, bind=challenge.id)


def complete(
    session: Session,
    principal: Principal,
    token: str,
    *,
    method: str,
    code: str = "",
    credential: dict | None = None,
    rp_id: str = "",
    origin: str = "",  # type: ignore[type-arg]
) -> Challenge:
    """Check the factor and record the grant; the session's level rises too. A challenge completes once."""
    challenge = read_challenge(principal, token)
    if method not in challenge.methods:
        raise ValidationFailed(f"{method!r} cannot complete this challenge")
    customer = service.get_customer(session, principal.id)
    if customer is None:
        raise Forbidden("the customer no longer exists")
    if method == "sms":
        phone = service.phone_of(customer)
        if phone is None:
            raise ValidationFailed("there is no phone on file")
        otp.verify(session, phone=phone, purpose="step-up", code=code, binding=challenge.id)
    elif method == "otp":
        totp.verify(session, customer.id, code)
    else:
        passkeys.authenticate(
            session,
            credential=credential or {},
            rp_id=rp_id,
            origin=origin,
            customer_id=customer.id,
            bind=challenge.id,
        )
    claims = tickets.read(CHALLENGE, token)
    try:
        with session.begin_nested():
            session.add(
                StepUpGrant(
                    challenge_id=challenge.id,
                    customer_id=customer.id,
                    sid=principal.sid or "",
                    action=challenge.action,
                    digest=str(claims["dig"]),
                    level=challenge.level,
                    method=method,
                )
            )
    except IntegrityError:
        raise Conflict("this challenge was already completed") from None
    sessions.raise_assurance(session, principal.sid or "", "passkey" if method == "passkey" else method)
    return challenge
