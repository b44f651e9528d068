"""Lockout after repeated wrong passwords (see the package docstring for the rules and the parity of
unknown usernames). The state machine is `domain`; this module loads and stores it.

The sign-in edge calls, for a username that resolves to a customer:
`ensure_can_sign_in(customer)` before checking the password, `record_failure(session, customer.id)` in a
transaction of its own after a refusal, `record_success(session, customer.id)` with the new session; and
for a username without a customer: `ensure_unknown_can_sign_in(session, username)` and
`record_unknown_failure(session, username)`. Staff unlock with `unlock(...)` and a reason (the console
records the reason in the staff access audit, in the same transaction).
"""

from __future__ import annotations

import unicodedata
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from atrium.config import get_settings
from atrium.identity.models import Customer
from atrium.identity.protection import domain, ratelimit
from atrium.identity.protection.domain import LockPolicy, LockState
from atrium.identity.protection.errors import AccountLocked, CustomerNotFound, NotLocked, UnlockReasonRequired
from atrium.identity.protection.models import PhantomLock
from atrium.identity.protection.schemas import LockStatusRead
from atrium.kit import clock
from atrium.kit.errors import ValidationFailed
from atrium.logs import get_logger

log = get_logger("atrium.identity.protection")
REASON_MAX = 200


class _Lockable(Protocol):
    failed_logins: int
    lock_state: str
    locked_until: object
    locked_at: object
    lock_count: int


def policy() -> LockPolicy:
    p = get_settings().protection
    return LockPolicy(max_failures=p.max_failures, lock_minutes=p.lock_minutes,
                      permanent_after=p.permanent_after, permanent_window_h=p.permanent_window_h)


def _state(row: _Lockable) -> LockState:
    kind = row.lock_state if row.lock_state in ("none", "temporary", "permanent") else "none"
    return LockState(failed=row.failed_logins, state=kind, locked_until=row.locked_until,  # type: ignore[arg-type]
                     locked_at=row.locked_at, lock_count=row.lock_count)  # type: ignore[arg-type]


def _store(row: _Lockable, state: LockState) -> None:
    row.failed_logins = state.failed
    row.lock_state = state.state
    row.locked_until = state.locked_until
    row.locked_at = state.locked_at
    row.lock_count = state.lock_count


def _refuse_if_locked(state: LockState) -> None:
    now = clock.now()
    refusal = domain.refusal(state, now)
    if refusal is not None:
        raise AccountLocked(lock=refusal.state, locked_until=refusal.locked_until,
                            retry_after=refusal.retry_after_s(now))


def _customer_key(customer_id: str) -> str:
    return f"lockout:customer:{customer_id}"


def _phantom_key(subject: str) -> str:
    return f"lockout:unknown:{subject}"


def _fail(session: Session, row: _Lockable, key: str) -> LockState:
    rules = policy()
    now = clock.now()
    before = _state(row)
    recent = 0
    if domain.needs_lock(before, now, rules):
        recent = ratelimit.record(session, key, window_s=rules.permanent_window_s)
    after = domain.after_failure(before, now, rules, recent_locks=recent)
    _store(row, after)
    session.flush()
    return after


# --- customers ----------------------------------------------------------------------------------------


def ensure_can_sign_in(customer: Customer) -> None:
    """Raise AccountLocked (423) while the customer is locked — whatever password they are about to give."""
    _refuse_if_locked(_state(customer))


def _locked_customer(session: Session, customer_id: str) -> Customer:
    row = session.scalar(
        select(Customer).where(Customer.id == customer_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise CustomerNotFound("no such customer")
    return row


def record_failure(session: Session, customer_id: str) -> None:
    """One more wrong password (or code): may start a temporary or a permanent lock. A no-op while locked."""
    customer = _locked_customer(session, customer_id)
    before = customer.lock_state
    after = _fail(session, customer, _customer_key(customer_id))
    if after.state != before and after.state != "none":
        log.info("customer_locked", customer_id=customer_id, lock=after.state, recent_locks=after.lock_count)


def record_success(session: Session, customer_id: str) -> None:
    customer = _locked_customer(session, customer_id)
    if customer.failed_logins or customer.lock_state != "none":
        _store(customer, domain.after_success(_state(customer)))
        session.flush()


def status(session: Session, customer_id: str) -> LockStatusRead:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise CustomerNotFound("no such customer")
    now = clock.now()
    state = _state(customer)
    refusal = domain.refusal(state, now)
    return LockStatusRead(
        customer_id=customer.id,
        state=refusal.state if refusal else "none",
        locked_until=refusal.locked_until if refusal else None,
        locked_at=state.locked_at if refusal else None,
        failed_logins=domain.settled(state, now).failed,
        recent_locks=ratelimit.count(
            session, _customer_key(customer.id), window_s=policy().permanent_window_s
        ),
    )


def _clean_reason(reason: str | None) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise UnlockReasonRequired("say why the customer is unlocked")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text):
        raise ValidationFailed("the reason may not contain control characters")
    if len(text) > REASON_MAX:
        raise ValidationFailed(f"the reason is at most {REASON_MAX} characters")
    return text


def unlock(session: Session, customer_id: str, staff_id: str, reason: str) -> LockStatusRead:
    """A staff member lifts a temporary or permanent lock, with a reason (required). Clears the failure
    count and the recent locks. Returns the lock status as it was before. NotLocked (409) when there is
    no lock in force, so a form sent twice is not recorded twice."""
    _clean_reason(reason)
    before = status(session, customer_id)
    if before.state == "none":
        raise NotLocked("the customer is not locked")
    customer = _locked_customer(session, customer_id)
    _store(customer, domain.unlocked())
    ratelimit.clear(session, _customer_key(customer_id))
    session.flush()
    log.info("customer_unlocked", customer_id=customer_id, staff_id=staff_id, lock=before.state)
    return before


# --- usernames without a customer (phantoms) ---------------------------------------------------------


def ensure_unknown_can_sign_in(session: Session, username: str) -> None:
    """The answer a real customer's lock would give, for a username that has no customer."""
    row = session.get(PhantomLock, ratelimit.username_digest(username))
    if row is not None:
        _refuse_if_locked(_state(row))


def record_unknown_failure(session: Session, username: str) -> None:
    subject = ratelimit.username_digest(username)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(PhantomLock).values(subject=subject, updated_at=clock.now())
                    .on_conflict_do_nothing(index_elements=[PhantomLock.subject]))
    row = session.scalar(
        select(PhantomLock).where(PhantomLock.subject == subject).with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    _fail(session, row, _phantom_key(subject))
    row.updated_at = clock.now()
    session.flush()
