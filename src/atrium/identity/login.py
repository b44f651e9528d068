"""Signing in: the first factor, then — unless the device is already trusted — a second one.

- Password on a trusted device (its key signs a fresh nonce): signed in at level 2 (pwd + hwk).
- Password anywhere else: a sign-in ticket (5 minutes) and a second factor — an SMS code to the phone on
  file, or a TOTP code; then level 2. A device key offered with the first step is bound to the customer
  once the second factor succeeds, and starts its cooling-off period (lower payment limits).
- An SMS code alone (phone + code): level 2 on a trusted device, else level 1 (money movement then needs
  a step-up).
- A customer with no second factor on file (no phone, no authenticator) signs in at level 1.

Failures are not recorded here: the caller's transaction rolls back on a refusal, so the edge records
them in a transaction of their own (`record_failure`), which also counts them towards the lockout.

The risk seam: sign-in assessors (`register_sign_in_assessor`; identity sits below the anti-fraud domain,
which registers one at start-up) see every sign-in just before its session opens. `deny` refuses it
(`SignInRefused`, answered like a wrong password); a raised level on a trusted device asks for the second
factor after all, and on any other sign-in opens the session without the device factor and binds no new
device, so money movement still needs a step-up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session

from atrium.identity import passwords, service, sessions, tickets
from atrium.identity.devices import service as devices
from atrium.identity.errors import InvalidCredentials, SignInRefused
from atrium.identity.models import Customer, LoginEvent
from atrium.identity.otp import service as otp
from atrium.identity.otp import totp
from atrium.identity.pii import mask_phone
from atrium.identity.principal import Principal
from atrium.identity.protection import lockout
from atrium.identity.stepup import RiskOpinion
from atrium.kit.errors import ValidationFailed
from atrium.kit.ids import new_id

TICKET_TTL = timedelta(minutes=5)
TICKET = "login"


@dataclass(frozen=True)
class Client:
    """Where a sign-in comes from: network address and browser, and the device key it offers."""

    ip: str = ""
    user_agent: str = ""
    client: str = "mobile"
    device_id: str | None = None  # a device the server bound earlier
    device_nonce: str | None = None  # from `devices.login_nonce()`
    device_signature: str | None = None  # the device key's signature over the nonce
    device_public_key: str | None = None  # a new device's key, to bind after the second factor


@dataclass(frozen=True)
class SignedIn:
    token: str
    principal: Principal
    device_id: str | None = None
    status: str = "signed-in"


@dataclass(frozen=True)
class SecondFactorNeeded:
    ticket: str
    methods: tuple[str, ...]
    phone_masked: str | None = None
    status: str = "second-factor-required"
    extra: dict[str, str] = field(default_factory=dict)


Outcome = SignedIn | SecondFactorNeeded


@dataclass(frozen=True)
class SignInAttempt:
    """What a sign-in assessor sees, just before the session would open."""

    attempt_id: str  # unique per attempt: the risk decision's subject
    customer_id: str
    method: str  # the factors so far: "pwd+hwk", "pwd+sms", "sms", …
    client: Client
    device_id: str | None = None  # a bound device the sign-in proved
    new_device: bool = False  # a new device key would be bound by this sign-in


SignInAssessor = Callable[[Session, SignInAttempt], RiskOpinion | None]
_sign_in_assessors: list[SignInAssessor] = []


def register_sign_in_assessor(assessor: SignInAssessor) -> Callable[[], None]:
    """Add a sign-in assessor; returns a function that removes it again."""
    _sign_in_assessors.append(assessor)
    return lambda: _sign_in_assessors.remove(assessor)


def _assess(
    session: Session, customer: Customer, method: str, client: Client, *, device_id: str | None = None,
    new_device: bool = False,
) -> bool:
    """Ask the assessors about this sign-in: raise SignInRefused on a deny; True when one asks for more
    assurance than the sign-in has (a challenge)."""
    attempt = SignInAttempt(attempt_id=new_id("lga"), customer_id=customer.id, method=method, client=client,
                            device_id=device_id, new_device=new_device)
    challenged = False
    for assessor in list(_sign_in_assessors):
        opinion = assessor(session, attempt)
        if opinion is None:
            continue
        if opinion.deny:
            raise SignInRefused("wrong username or password")  # no reasons: they would help an attacker
        challenged = challenged or opinion.level >= 3
    return challenged


def _event(
    session: Session,
    customer_id: str | None,
    outcome: str,
    method: str,
    client: Client,
    device_id: str | None = None,
) -> None:
    session.add(
        LoginEvent(
            id=new_id("lgn"),
            subject_kind="customer",
            customer_id=customer_id,
            outcome=outcome,
            method=method,
            ip=client.ip[:64],
            user_agent=client.user_agent[:200],
            device_id=device_id,
        )
    )


def _trusted_device(session: Session, customer: Customer, client: Client) -> str | None:
    if not (client.device_id and client.device_nonce and client.device_signature):
        return None
    device = devices.prove(
        session,
        customer_id=customer.id,
        device_id=client.device_id,
        nonce=client.device_nonce,
        signature=client.device_signature,
    )
    return device.id if device is not None else None


def _second_factors(session: Session, customer: Customer) -> tuple[str, ...]:
    methods: list[str] = []
    if customer.phone_enc:
        methods.append("sms")
    if totp.is_enrolled(session, customer.id):
        methods.append("otp")
    return tuple(methods)


def _open(
    session: Session, customer: Customer, amr: list[str], client: Client, device_id: str | None
) -> SignedIn:
    lockout.record_success(session, customer.id)
    token, principal = sessions.open_session(
        session,
        customer_id=customer.id,
        amr=amr,
        device_id=device_id,
        ip=client.ip,
        user_agent=client.user_agent,
        client=client.client,
    )
    _event(session, customer.id, "success", "+".join(amr), client, device_id)
    return SignedIn(token=token, principal=principal, device_id=device_id)


@dataclass(frozen=True)
class PasswordChecked:
    """A password found right for a customer, by `check_password` — outside the write transaction."""

    customer_id: str
    password_hash: str  # the hash it was checked against: the sign-in goes on only if it is unchanged
    password: str = field(repr=False)


def check_password(session: Session, *, username: str, password: str) -> PasswordChecked:
    """The first factor, on a read session: argon2 costs ~100 ms of CPU by design, and must not hold a
    write transaction (SQLite's single writer, a pooled PostgreSQL connection) while it runs. Refuses a
    locked account before spending it; unknown usernames get the same answers as real ones."""
    customer = service.find_customer_by_username(session, username)
    if customer is not None:
        lockout.ensure_can_sign_in(customer)
    else:
        lockout.ensure_unknown_can_sign_in(session, username)  # the same answer as a locked customer's
    if (
        not passwords.verify_password(customer.password_hash if customer else None, password)
        or customer is None
    ):
        raise InvalidCredentials("wrong username or password")
    if customer.status != "active":
        raise InvalidCredentials("wrong username or password")
    return PasswordChecked(customer_id=customer.id, password_hash=customer.password_hash, password=password)


def with_password(session: Session, *, checked: PasswordChecked, client: Client) -> Outcome:
    """Go on from a checked password, in the write transaction: a trusted device signs in at level 2,
    otherwise a ticket for the second factor."""
    subject = service.get_customer(session, checked.customer_id)
    if subject is None or subject.status != "active" or subject.password_hash != checked.password_hash:
        raise InvalidCredentials("wrong username or password")  # changed since it was checked: try again
    lockout.ensure_can_sign_in(subject)
    if passwords.needs_rehash(subject.password_hash):
        subject.password_hash = passwords.hash_password(checked.password)
    trusted = _trusted_device(session, subject, client)
    methods = _second_factors(session, subject)
    if trusted is not None:
        challenged = _assess(session, subject, "pwd+hwk", client, device_id=trusted)
        if not challenged:
            return _open(session, subject, ["pwd", "hwk"], client, trusted)
        if not methods:
            # Nothing more to ask for: open without the device factor, so money movement needs a step-up.
            return _open(session, subject, ["pwd"], client, None)
    if not methods:
        _assess(session, subject, "pwd", client)
        return _open(session, subject, ["pwd"], client, None)
    ticket = tickets.issue(
        TICKET, {"sub": subject.id, "amr": ["pwd"], "dpk": client.device_public_key or ""}, ttl=TICKET_TTL
    )
    _event(session, subject.id, "challenge", "pwd", client)
    phone = service.phone_of(subject)
    return SecondFactorNeeded(
        ticket=ticket, methods=methods, phone_masked=mask_phone(phone) if phone else None
    )


def _ticket_customer(session: Session, ticket: str) -> tuple[dict, Customer]:  # type: ignore[type-arg]
    claims = tickets.read(TICKET, ticket)
    customer = service.get_customer(session, str(claims.get("sub", "")))
    if customer is None or customer.status != "active":
        raise tickets.TicketInvalid("the ticket's customer is gone")
    lockout.ensure_can_sign_in(customer)
    return claims, customer


def send_second_factor_code(session: Session, *, ticket: str) -> otp.IssuedCode:
    claims, customer = _ticket_customer(session, ticket)
    phone = service.phone_of(customer)
    if phone is None:
        raise ValidationFailed("there is no phone on file to send a code to")
    return otp.issue(
        session,
        phone=phone,
        purpose="login-2fa",
        customer_id=customer.id,
        binding=str(claims["jti"]),
        locale=customer.locale,
    )


def complete_second_factor(
    session: Session, *, ticket: str, method: str, code: str, client: Client
) -> SignedIn:
    claims, customer = _ticket_customer(session, ticket)
    if method == "sms":
        phone = service.phone_of(customer)
        if phone is None:
            raise ValidationFailed("there is no phone on file")
        otp.verify(session, phone=phone, purpose="login-2fa", code=code, binding=str(claims["jti"]))
    elif method == "otp":
        totp.verify(session, customer.id, code)
    else:
        raise ValidationFailed(f"unknown second factor {method!r}")
    device_id = None
    public_key = str(claims.get("dpk") or "")
    factors = "+".join([*claims.get("amr", ["pwd"]), method])
    if _assess(session, customer, factors, client, new_device=bool(public_key)):
        public_key = ""  # the second factor answered the challenge; a new device is not trusted yet
    if public_key:
        device = devices.register_device(
            session,
            customer_id=customer.id,
            public_key=public_key,
            name="",
            user_agent=client.user_agent,
        )
        devices.mark_trusted(session, device.id)
        device_id = device.id
    return _open(session, customer, [*claims.get("amr", ["pwd"]), method], client, device_id)


def send_sms_login_code(session: Session, *, phone: str) -> None:
    """Send a sign-in code if the phone belongs to an active customer. The caller answers the same either
    way, so the form cannot be used to learn who banks with us."""
    customer = service.find_customer_by_phone(session, phone)
    if customer is None or customer.status != "active":
        return
    otp.issue(session, phone=phone, purpose="login", customer_id=customer.id, locale=customer.locale)


def with_sms_code(session: Session, *, phone: str, code: str, client: Client) -> SignedIn:
    customer = service.find_customer_by_phone(session, phone)
    if customer is None or customer.status != "active":
        raise InvalidCredentials("the code is wrong or has expired")
    lockout.ensure_can_sign_in(customer)
    otp.verify(session, phone=phone, purpose="login", code=code)
    trusted = _trusted_device(session, customer, client)
    challenged = _assess(session, customer, "sms+hwk" if trusted else "sms", client, device_id=trusted,
                         new_device=trusted is None and bool(client.device_public_key))
    if trusted is not None and not challenged:
        return _open(session, customer, ["sms", "hwk"], client, trusted)
    device_id = None
    if client.device_public_key and trusted is None and not challenged:
        device_id = devices.register_device(
            session,
            customer_id=customer.id,
            public_key=client.device_public_key,
            name="",
            user_agent=client.user_agent,
        ).id
    return _open(session, customer, ["sms"], client, device_id)


def ticket_subject(ticket: str) -> str | None:
    """Whose sign-in ticket this is (None when it is not a valid ticket)."""
    try:
        return str(tickets.read(TICKET, ticket).get("sub") or "") or None
    except tickets.TicketInvalid:
        return None


def record_failure(
    session: Session,
    *,
    username: str | None = None,
    phone: str | None = None,
    customer_id: str | None = None,
    method: str,
    client: Client,
) -> None:
    """Count a refused sign-in towards the lockout and keep it in the login history (own transaction)."""
    customer = None
    if customer_id:
        customer = service.get_customer(session, customer_id)
    elif username:
        customer = service.find_customer_by_username(session, username)
    elif phone:
        customer = service.find_customer_by_phone(session, phone)
    if customer is None:
        if username:
            lockout.record_unknown_failure(session, username)
        _event(session, None, "failure", method, client)
        return
    lockout.record_failure(session, customer.id)
    _event(session, customer.id, "failure", method, client)


def staff_with_password(session: Session, *, username: str, password: str, client: Client) -> SignedIn:
    """Staff sign in to the console with a password (the console runs on the bank's network; staff
    second factors are the operations issue's)."""
    staff = service.check_password(session, username=username, password=password, kind="staff")
    token, principal = sessions.open_session(
        session, staff_id=staff.id, amr=["pwd"], ip=client.ip, user_agent=client.user_agent, client="staff"
    )
    session.add(
        LoginEvent(
            id=new_id("lgn"),
            subject_kind="staff",
            staff_id=staff.id,
            outcome="success",
            method="pwd",
            ip=client.ip[:64],
            user_agent=client.user_agent[:200],
        )
    )
    return SignedIn(token=token, principal=principal)
