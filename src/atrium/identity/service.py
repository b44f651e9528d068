from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from atrium.identity import identities, passwords, pii, sessions
from atrium.identity.devices import service as devices
from atrium.identity.devices.schemas import DeviceRead
from atrium.identity.errors import InvalidCredentials, PhoneTaken, UsernameTaken
from atrium.identity.models import Customer, CustomerIdentity, StaffUser
from atrium.identity.principal import Principal
from atrium.identity.profile import domain as preferences
from atrium.identity.profile.models import PreferenceChange
from atrium.identity.protection import history, lockout
from atrium.identity.protection.schemas import LockStatusRead, LoginHistoryPage
from atrium.kit.errors import NotFound, ValidationFailed
from atrium.kit.ids import new_id

__all__ = ["Principal"]


def create_customer(
    session: Session, *, username: str, password: str | None = None, display_name: str, locale: str = "zh",
    customer_id: str | None = None, password_hash: str | None = None, phone: str | None = None,
) -> Customer:
    """Create a customer and their "person" identity. `phone` (E.164, e.g. "+8613812345678") is sealed and
    blind-indexed; it receives sign-in and step-up codes. Bulk loaders (the demo seeder) may pass a
    `password_hash` computed once."""
    if (password is None) == (password_hash is None):
        raise ValueError("give exactly one of password and password_hash")
    if session.scalar(select(Customer.id).where(Customer.username == username)):
        raise UsernameTaken(f"username {username!r} is taken")
    customer = Customer(
        id=customer_id or new_id("cus"),
        username=username,
        display_name=display_name,
        password_hash=password_hash or passwords.hash_password(password or ""),
        locale=locale,
    )
    if phone is not None:
        index = phone_index(phone)
        if session.scalar(select(Customer.id).where(Customer.phone_hash == index)):
            raise PhoneTaken("that phone number is registered to another customer")
        customer.phone_hash = index
        customer.phone_enc = pii.seal(phone, context=PHONE_CONTEXT)
    session.add(customer)
    session.add(CustomerIdentity(id=new_id("idn"), customer_id=customer.id, kind="person"))
    session.flush()
    return customer


PHONE_CONTEXT = "customer.phone"


def phone_index(phone: str) -> str:
    return pii.blind_index(phone, context=PHONE_CONTEXT)


def phone_of(customer: Customer) -> str | None:
    """The customer's phone in clear, for sending them a code (never for display: see `pii.mask_phone`)."""
    return pii.unseal_optional(customer.phone_enc, context=PHONE_CONTEXT)


def find_customer_by_phone(session: Session, phone: str) -> Customer | None:
    return session.scalar(select(Customer).where(Customer.phone_hash == phone_index(phone)))


def hash_password(password: str) -> str:
    return passwords.hash_password(password)


def count_customers(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Customer)) or 0


def create_staff(
    session: Session, *, username: str, password: str, display_name: str, role: str,
    password_hash: str | None = None,
) -> StaffUser:
    if session.scalar(select(StaffUser.id).where(StaffUser.username == username)):
        raise UsernameTaken(f"username {username!r} is taken")
    staff = StaffUser(
        id=new_id("stf"), username=username, display_name=display_name, role=role,
        password_hash=password_hash or passwords.hash_password(password),
    )
    session.add(staff)
    session.flush()
    return staff


def check_password(session: Session, *, username: str, password: str, kind: str) -> Customer | StaffUser:
    """The subject whose password this is, or InvalidCredentials (same answer and about the same time
    for an unknown username). Rehashes on success when the hashing parameters changed."""
    model = Customer if kind == "customer" else StaffUser
    subject = session.scalar(select(model).where(model.username == username))
    if not passwords.verify_password(subject.password_hash if subject else None, password) or subject is None:
        raise InvalidCredentials("wrong username or password")
    if isinstance(subject, Customer) and subject.status != "active":
        raise InvalidCredentials("wrong username or password")
    if passwords.needs_rehash(subject.password_hash):
        subject.password_hash = passwords.hash_password(password)
    return subject


def authenticate(session: Session, token: str) -> Principal:
    return sessions.authenticate(session, token)


def logout(session: Session, token_hash: str) -> None:
    sessions.end(session, token_hash)


def get_customer(session: Session, customer_id: str) -> Customer | None:
    return session.get(Customer, customer_id)


def get_staff(session: Session, staff_id: str) -> StaffUser | None:
    return session.get(StaffUser, staff_id)


def find_customer_by_username(session: Session, username: str) -> Customer | None:
    return session.scalar(select(Customer).where(Customer.username == username))


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


SEARCH_MAX = 200


def search_customers(
    session: Session, *, text: str | None = None, before_id: str | None = None, limit: int = 50
) -> list[Customer]:
    """Customers whose username starts with `text` or whose display name contains it (both ignoring case),
    newest first (ids are time-ordered, so `before_id` — the last id of the previous page — is the keyset).
    No `text`: every customer. For staff screens, which mask what they show."""
    limit = max(1, min(limit, SEARCH_MAX + 1))
    stmt = select(Customer)
    needle = (text or "").strip().lower()
    if needle:
        pattern = _like_escape(needle)
        stmt = stmt.where(or_(
            func.lower(Customer.username).like(pattern + "%", escape="\\"),
            func.lower(Customer.display_name).like("%" + pattern + "%", escape="\\"),
        ))
    if before_id:
        stmt = stmt.where(Customer.id < before_id)
    return list(session.scalars(stmt.order_by(Customer.id.desc()).limit(limit)))


# --- reads for the staff console (atrium.staff masks what it shows and audits every read) -------------------

KYC_FIELDS: tuple[str, ...] = ("legal_name", "id_number", "phone", "email", "address")


def masked_kyc(session: Session, customer_id: str) -> dict[str, str | None]:
    """The customer's KYC fields, each masked by its own rule (`pii.mask_*`); None: not on file."""
    from atrium.identity import kyc  # here, not at the top: kyc imports this module

    shown = kyc.profile(session, customer_id)
    return {name: getattr(shown, name) for name in KYC_FIELDS}


def reveal_kyc(session: Session, customer_id: str, field: str) -> str:
    """One KYC field in clear (`kyc.KycNotOnFile`, a NotFound, if the customer has none). The caller is
    accountable for showing it: the staff domain calls this only after recording the reveal and its reason."""
    from atrium.identity import kyc  # here, not at the top: kyc imports this module

    return kyc.reveal(session, customer_id, field)


def list_identities(session: Session, customer_id: str) -> list[identities.IdentityRead]:
    """The customer's identities: the person, then companies they operate for and merchants they run."""
    return identities.list_identities(session, customer_id)


def lock_status(session: Session, customer_id: str) -> LockStatusRead:
    """The customer's sign-in lock as it stands now."""
    return lockout.status(session, customer_id)


def login_history(session: Session, customer_id: str, *, limit: int = 10) -> LoginHistoryPage:
    """The customer's latest sign-in attempts, newest first."""
    return history.list_history(session, customer_id, limit=limit)


def list_devices(session: Session, customer_id: str) -> list[DeviceRead]:
    """The customer's bound devices, removed ones included (staff see the history), last seen first."""
    return devices.list_devices(session, customer_id, include_revoked=True)


def describe_user_agent(user_agent: str) -> str:
    """A short name for a browser ("Chrome · Android"): what staff see instead of a device's own name."""
    return devices.describe_user_agent(user_agent)


def find_staff_by_username(session: Session, username: str) -> StaffUser | None:
    return session.scalar(select(StaffUser).where(StaffUser.username == username))


# --- app preferences (atrium.identity.profile.domain) ----------------------------------------------------


def ui_mode_of(session: Session, customer_id: str) -> str | None:
    """The display mode the customer chose ("standard" | "elder"), or None while they never chose one."""
    return session.scalar(select(Customer.ui_mode).where(Customer.id == customer_id))


def set_ui_mode(
    session: Session, customer_id: str, mode: str, *, channel: str = "mobile", sid: str | None = None
) -> bool:
    """Store the customer's display mode and record the change with the session that made it (choosing
    the stored mode again changes and records nothing). True when it changed."""
    if not preferences.is_ui_mode(mode):
        raise ValidationFailed(f"unknown display mode {mode!r}", allowed=list(preferences.UI_MODES))
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("no such customer")
    if customer.ui_mode == mode:
        return False
    session.add(PreferenceChange(
        id=new_id("prf"), customer_id=customer_id, name="ui_mode", old_value=customer.ui_mode,
        new_value=mode, channel=channel[:16], sid=sid,
    ))
    customer.ui_mode = mode
    session.flush()
    return True


def preference_changes(session: Session, customer_id: str, *, limit: int = 20) -> list[PreferenceChange]:
    """The customer's preference changes, newest first."""
    return list(session.scalars(
        select(PreferenceChange).where(PreferenceChange.customer_id == customer_id)
        .order_by(PreferenceChange.id.desc()).limit(limit)
    ))
