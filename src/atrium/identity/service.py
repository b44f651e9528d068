from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from atrium.identity import passwords
from atrium.identity.errors import InvalidCredentials, SessionExpired, UsernameTaken
from atrium.identity.models import AuthSession, Customer, StaffUser
from atrium.kit import clock
from atrium.kit.ids import new_id


@dataclass(frozen=True)
class Principal:
    """Who is calling: a customer or a staff user, resolved from a session token."""

    kind: str  # customer | staff
    id: str
    role: str | None = None
    token_hash: str | None = None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_customer(
    session: Session, *, username: str, password: str | None = None, display_name: str, locale: str = "zh",
    customer_id: str | None = None, password_hash: str | None = None,
) -> Customer:
    """Register a customer. Bulk loaders (the demo seeder) may pass a `password_hash` computed once."""
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
    session.add(customer)
    session.flush()
    return customer


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


def login(session: Session, *, username: str, password: str, kind: str, ttl_s: int) -> tuple[str, Principal]:
    """Check the password and open a session. Returns the raw token (shown once) and the principal."""
    model = Customer if kind == "customer" else StaffUser
    subject = session.scalar(select(model).where(model.username == username))
    if not passwords.verify_password(subject.password_hash if subject else None, password) or subject is None:
        raise InvalidCredentials("wrong username or password")
    if isinstance(subject, Customer) and subject.status != "active":
        raise InvalidCredentials("wrong username or password")
    if passwords.needs_rehash(subject.password_hash):
        subject.password_hash = passwords.hash_password(password)
    token = secrets.token_urlsafe(32)
    now = clock.now()
    session.add(
        AuthSession(
            token_hash=_digest(token),
            subject_kind=kind,
            customer_id=subject.id if kind == "customer" else None,
            staff_id=subject.id if kind == "staff" else None,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl_s),
        )
    )
    session.flush()
    role = subject.role if isinstance(subject, StaffUser) else None
    return token, Principal(kind=kind, id=subject.id, role=role, token_hash=_digest(token))


def authenticate(session: Session, token: str) -> Principal:
    row = session.get(AuthSession, _digest(token))
    if row is None or row.revoked_at is not None or row.expires_at <= clock.now():
        raise SessionExpired("the session is unknown, expired or signed out")
    if row.subject_kind == "customer":
        return Principal(kind="customer", id=row.customer_id or "", token_hash=row.token_hash)
    staff = session.get(StaffUser, row.staff_id)
    return Principal(kind="staff", id=row.staff_id or "", role=staff.role if staff else None,
                     token_hash=row.token_hash)


def logout(session: Session, token_hash: str) -> None:
    session.execute(
        update(AuthSession)
        .where(AuthSession.token_hash == token_hash, AuthSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )


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
