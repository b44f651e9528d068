"""Self-registration: prove the phone, give KYC details, choose a username and password.

1. `start(phone)`: an SMS code (purpose "register") to a number that is not registered yet. The answer is
   the same whether or not it is registered — a registered number instead gets a text saying someone tried
   to register with it — and both paths are throttled alike (one text a minute, five an hour), so the
   answer (and its 429s) cannot be used to find out who banks here.
2. `verify_phone(phone, code)`: the code checked (single use), and a registration ticket (15 minutes)
   that carries the proven phone, sealed, to the last step.
3. `complete(ticket, details)`: KYC, username and password policy checked together (every problem
   reported at once), then the customer (with their "person" identity), the sealed KYC fields, and a
   `CustomerRegistered` event. The first account is not opened here: accounts is a higher layer. The
   channel opens it in the same transaction (the mobile page does), or the accounts handler of
   `CustomerRegistered` does.

Nothing here logs a phone number, a code or a KYC value.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from atrium.events import outbox
from atrium.identity import identities, kyc, password_policy, pii, service, tickets
from atrium.identity.errors import PhoneTaken, UsernameTaken
from atrium.identity.events import CustomerRegistered
from atrium.identity.models import Customer
from atrium.identity.otp import service as otp
from atrium.identity.otp.errors import TooManyCodes
from atrium.kit import clock
from atrium.kit.errors import ValidationFailed
from atrium.notify import service as notify

PURPOSE = "register"
TICKET = "register"
TICKET_TTL = timedelta(minutes=15)
TICKET_CONTEXT = "registration.phone"
ATTEMPT_CATEGORY = "security.register-attempt"
# The same throttle as the code texts (atrium.identity.otp): one a minute, five an hour per number.
# The same answers too, so a 429 does not tell the two paths apart.
ATTEMPT_LIMITS = (
    (timedelta(minutes=1), 1, "a code was sent less than a minute ago"),
    (timedelta(hours=1), 5, "too many codes this hour"),
)
USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{2,31}")
ATTEMPT_TEXT = {
    "zh": "有人正在使用本手机号注册 Atrium 银行，但该号码已注册。如非本人操作，请忽略本短信；"
          "忘记用户名或密码，可在登录页找回。",
    "en": "Someone tried to register with Atrium Bank using this number, which is already registered. "
          "If it was not you, ignore this message; forgot your username or password? Recover it on the "
          "sign-in page.",
}


class RegistrationInvalid(ValidationFailed):
    """Details that cannot be accepted: `errors` maps each field to its problem codes (KYC reasons such as
    "checksum", username "format", the password policy's violation ids)."""

    code = "registration-invalid"
    title = "Some registration details are not valid"

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("fields: " + ", ".join(sorted(errors)), errors=errors)
        self.errors = errors


@dataclass(frozen=True)
class Details:
    """What the customer types on the last step (clear text: keep in memory only)."""

    username: str
    password: str
    legal_name: str
    id_number: str
    email: str
    address: str
    display_name: str = ""

    def __repr__(self) -> str:
        return "Details(<redacted>)"


@dataclass(frozen=True)
class Registered:
    customer_id: str
    identity_id: str
    username: str


def _throttle_attempt_texts(session: Session, phone: str) -> None:
    sent = [
        m.sent_at for m in notify.outbox(session, phone=phone, limit=50) if m.category == ATTEMPT_CATEGORY
    ]
    now = clock.now()
    for window, limit, detail in ATTEMPT_LIMITS:
        recent = sorted(_aware(at) for at in sent if _aware(at) > now - window)
        if len(recent) >= limit:
            # The oldest of the last `limit` texts leaving the window frees a place.
            wait = recent[-limit] + window - now
            raise TooManyCodes(detail, retry_after=max(1, math.ceil(wait.total_seconds())))


def _aware(at: datetime) -> datetime:
    # SQLite hands back naive datetimes (stored as UTC); PostgreSQL aware ones.
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def start(session: Session, *, phone: str, locale: str = "zh") -> str:
    """Send the registration code (or, to a registered number, the warning text). Returns the E.164 phone.
    Raises InvalidKyc (422) for a number that is not a mainland mobile, TooManyCodes (429)."""
    number = kyc.normalise_phone(phone)
    existing = service.find_customer_by_phone(session, number)
    if existing is None:
        otp.issue(session, phone=number, purpose=PURPOSE, locale=locale)
        return number
    _throttle_attempt_texts(session, number)
    notify.send_sms(
        session, phone=number, text=ATTEMPT_TEXT.get(locale, ATTEMPT_TEXT["zh"]), category=ATTEMPT_CATEGORY,
        customer_id=existing.id, locale=locale,
    )
    return number


def verify_phone(session: Session, *, phone: str, code: str) -> str:
    """Check the code and return the registration ticket. InvalidCode (401) when wrong, expired or used: the
    edge that rolls back must count the try again with `otp.record_failure(session, exc.code_id)`."""
    number = kyc.normalise_phone(phone)
    otp.verify(session, phone=number, purpose=PURPOSE, code=code.strip())
    return tickets.issue(TICKET, {"ph": pii.seal(number, context=TICKET_CONTEXT)}, ttl=TICKET_TTL)


def phone_of_ticket(ticket: str) -> str:
    """The proven phone a registration ticket carries (TicketInvalid 401 when forged or expired)."""
    claims = tickets.read(TICKET, ticket)
    sealed = claims.get("ph")
    if not isinstance(sealed, str):
        raise tickets.TicketInvalid("the ticket carries no phone")
    return pii.unseal(sealed, context=TICKET_CONTEXT)


def check_details(
    details: Details, *, phone: str | None = None
) -> tuple[kyc.KycData | None, dict[str, list[str]]]:
    """Validate everything the last step asks for, without touching the database; every problem at once."""
    data, kyc_errors = kyc.validate(
        legal_name=details.legal_name, id_number=details.id_number, email=details.email,
        address=details.address,
    )
    errors: dict[str, list[str]] = {name: [reason] for name, reason in kyc_errors.items()}
    if not USERNAME.fullmatch(details.username):
        errors["username"] = ["format"]
    if len(details.display_name.strip()) > 40:
        errors["display_name"] = ["length"]
    personal = kyc.personal_words(data, username=details.username) if data else []
    if phone:
        personal += [phone.removeprefix("+86")]
    violations = password_policy.check(details.password, username=details.username, personal=personal)
    if violations:
        errors["password"] = list(violations)
    if data is not None and phone is not None:
        data = kyc.KycData(
            legal_name=data.legal_name, id_number=data.id_number, email=data.email, address=data.address,
            phone=phone,
        )
    return (None if errors else data), errors


def username_taken(session: Session, username: str) -> bool:
    """Usernames are unique ignoring case, so "Mei" cannot pose as "mei"."""
    return session.scalar(
        select(Customer.id).where(func.lower(Customer.username) == username.lower()).limit(1)
    ) is not None


def complete(
    session: Session, *, ticket: str, details: Details, locale: str = "zh", channel: str = "mobile"
) -> Registered:
    """Create the customer from a registration ticket and validated details (see the module docstring).
    Raises TicketInvalid (401), RegistrationInvalid (422), UsernameTaken / PhoneTaken (409)."""
    phone = phone_of_ticket(ticket)
    data, errors = check_details(details, phone=phone)
    if data is None:
        raise RegistrationInvalid(errors)
    # Only the holder of a code sent to this phone gets here, so saying it is registered tells no stranger.
    if service.find_customer_by_phone(session, phone) is not None:
        raise PhoneTaken("that phone number is already registered")
    if username_taken(session, details.username):
        raise UsernameTaken("that username is taken")
    customer = service.create_customer(
        session, username=details.username, password=details.password, phone=phone,
        display_name=details.display_name.strip() or details.username, locale=locale,
    )
    kyc.write(customer, data)
    session.flush()
    person = identities.ensure_person(session, customer.id)
    outbox.record(session, CustomerRegistered(customer_id=customer.id, channel=channel))
    return Registered(customer_id=customer.id, identity_id=person.id, username=customer.username)
