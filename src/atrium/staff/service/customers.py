"""Customers for staff: search, the 360 page and its sections — masked, and recorded before they are read.

The 360 page shows the profile, the sign-in lock, the KYC fields (masked, each by its own rule) and one
section; each section can also be loaded on its own. Every load is one `customer.view` record: screen
"customer.360" for the page, "customer.section" for a section alone, the section's name in `detail`.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from atrium.accounts import service as accounts
from atrium.accounts.schemas import DepositAccountRead
from atrium.identity import service as identity
from atrium.kit.errors import ValidationFailed
from atrium.kit.pagination import encode_cursor
from atrium.limits import service as limits
from atrium.limits.schemas import LimitChangeRead
from atrium.payments import service as payments
from atrium.payments.schemas import TransferRead
from atrium.staff.domain import SECTIONS, clean_reason, mask_ip, mask_name
from atrium.staff.errors import SectionNotFound
from atrium.staff.schemas import (
    AccountLine,
    CustomerSearchPage,
    CustomerView,
    DeviceLine,
    IdentitiesSection,
    IdentityLine,
    KycLine,
    LimitChangeLine,
    LimitsSection,
    LockLine,
    OverviewSection,
    OwnLimitLine,
    Section,
    SectionView,
    SecuritySection,
    SignInLine,
    TransferLine,
)
from atrium.staff.service._common import before_id, check_limit, existing_customer, summary
from atrium.staff.service.audit import record_access

SEARCH_TEXT_MAX = 64
RECENT_TRANSFERS = 20
RECENT_SIGN_INS = 10
RECENT_LIMIT_CHANGES = 10


def search_customers(
    session: Session,
    *,
    staff_id: str,
    staff_role: str | None,
    text: str,
    reason: str | None = None,
    cursor: str | None = None,
    limit: int = 25,
) -> CustomerSearchPage:
    """Customers whose username starts with `text` or whose name contains it, masked, newest first.
    Blank `text` searches nothing (and records nothing): staff look customers up, they do not browse them.
    The audit record keeps how many customers were shown, not the words searched for (they may be a name)."""
    needle = " ".join(text.split())
    if len(needle) > SEARCH_TEXT_MAX:
        raise ValidationFailed(f"search for at most {SEARCH_TEXT_MAX} characters")
    check_limit(limit)
    if not needle:
        return CustomerSearchPage(items=[])
    before = before_id(cursor)
    clean = clean_reason(reason)
    rows = identity.search_customers(session, text=needle, before_id=before, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    access = record_access(
        session, staff_id=staff_id, staff_role=staff_role, action="customer.search", screen="customer.search",
        reason=clean, detail=f"shown={len(rows)}" + (" page>1" if before else ""),
    )
    return CustomerSearchPage(
        items=[summary(c) for c in rows],
        next_cursor=encode_cursor([rows[-1].id]) if more and rows else None,
        access=access,
    )


# --- the sections --------------------------------------------------------------------------------------


def account_line(a: DepositAccountRead) -> AccountLine:
    return AccountLine(
        id=a.id, product=a.product, currency=a.currency, masked_number=a.masked_number, status=a.status,
        booked_minor=a.booked_minor, available_minor=a.available_minor, opened_at=a.opened_at,
    )


def transfer_line(t: TransferRead, numbers: dict[str, str]) -> TransferLine:
    to = t.to
    return TransferLine(
        id=t.id, kind=t.kind, status=t.status, channel=t.channel, from_account_id=t.from_account_id,
        from_masked_number=numbers.get(t.from_account_id), to_type=to.type, to_bank_code=to.bank_code,
        to_masked_number=numbers.get(to.account_id or "") or to.masked_account_number,
        to_masked_name=mask_name(to.name) if to.name else None, amount_minor=t.amount_minor,
        currency=t.currency, failure_code=t.failure_code, created_at=t.created_at, settled_at=t.settled_at,
    )


def _overview(session: Session, customer_id: str) -> OverviewSection:
    held = accounts.list_for_customer(session, customer_id)
    numbers = {a.id: a.masked_number for a in held}
    page = payments.list_transfers(session, customer_id=customer_id, limit=RECENT_TRANSFERS)
    return OverviewSection(
        accounts=[account_line(a) for a in held], transfers=[transfer_line(t, numbers) for t in page.items]
    )


def _identities(session: Session, customer_id: str) -> IdentitiesSection:
    return IdentitiesSection(identities=[
        IdentityLine(id=i.id, kind=i.kind, org_name=i.org_name, org_ref=i.org_ref, role=i.role,
                     created_at=i.created_at)
        for i in identity.list_identities(session, customer_id)
    ])


def _lock(session: Session, customer_id: str) -> LockLine:
    lock = identity.lock_status(session, customer_id)
    return LockLine(state=lock.state, locked_until=lock.locked_until, locked_at=lock.locked_at,
                    failed_logins=lock.failed_logins, recent_locks=lock.recent_locks)


def _security(session: Session, customer_id: str) -> SecuritySection:
    devices = [
        DeviceLine(id=d.id, label=identity.describe_user_agent(d.user_agent), trusted=d.trusted,
                   cooling_off=d.cooling_off, created_at=d.created_at, last_seen_at=d.last_seen_at,
                   revoked_at=d.revoked_at)
        for d in identity.list_devices(session, customer_id)
    ]
    history = identity.login_history(session, customer_id, limit=RECENT_SIGN_INS)
    sign_ins = [
        SignInLine(occurred_at=e.occurred_at, outcome=e.outcome, method=e.method, masked_ip=mask_ip(e.ip),
                   place_zh=e.place.zh, place_en=e.place.en, device=e.device.name)
        for e in history.items
    ]
    return SecuritySection(lock=_lock(session, customer_id), devices=devices, sign_ins=sign_ins)


def _limits(session: Session, customer_id: str) -> LimitsSection:
    return LimitsSection(
        own_limits=[OwnLimitLine(method=o.method, currency=o.currency,
                                 per_transaction_minor=o.per_transaction_minor, daily_minor=o.daily_minor)
                    for o in limits.get_own_limits(session, customer_id)],
        switches=limits.get_switches(session, customer_id).model_dump(),
        changes=[_change(c) for c in limits.list_changes(session, customer_id, limit=RECENT_LIMIT_CHANGES)],
    )


def _change(c: LimitChangeRead) -> LimitChangeLine:
    """Settings are "own:<method>:<currency>" and "switch:<name>" (see `atrium.limits.service`)."""
    parts = c.setting.split(":")
    if parts[0] == "own" and len(parts) == 3:
        kind, subject, currency = "own", parts[1], parts[2]
    elif parts[0] == "switch" and len(parts) == 2:
        kind, subject, currency = "switch", parts[1], None
    else:
        kind, subject, currency = "other", c.setting, None
    return LimitChangeLine(
        setting=c.setting, kind=kind, subject=subject, currency=currency, actor_kind=c.actor_kind,
        old_value=c.old_value, new_value=c.new_value, changed_at=c.changed_at,
    )


_READERS = {"overview": _overview, "identities": _identities, "security": _security, "limits": _limits}


def _check_section(section: str) -> None:
    if section not in SECTIONS:
        raise SectionNotFound("no such section", section=section)


def _read_section(session: Session, customer_id: str, section: str) -> Section:
    return _READERS[section](session, customer_id)  # type: ignore[no-any-return]


# --- the page and a section alone ----------------------------------------------------------------------


def view_customer(
    session: Session,
    *,
    staff_id: str,
    staff_role: str | None,
    customer_id: str,
    reason: str | None = None,
    section: str = "overview",
) -> CustomerView:
    """The customer 360 page: masked profile, lock state, masked KYC fields and one section. The access is
    recorded before anything is read beyond the customer's existence (an unknown id, an unknown section or
    a bad reason records nothing)."""
    _check_section(section)
    clean = clean_reason(reason)
    customer = existing_customer(session, customer_id)
    access = record_access(
        session, staff_id=staff_id, staff_role=staff_role, action="customer.view", customer_id=customer.id,
        screen="customer.360", reason=clean, detail=f"section={section}",
    )
    kyc = identity.masked_kyc(session, customer.id)
    return CustomerView(
        customer=summary(customer),
        lock=_lock(session, customer.id),
        kyc=[KycLine(field=name, masked=kyc[name]) for name in identity.KYC_FIELDS],
        section=_read_section(session, customer.id, section),
        access=access,
    )


def view_section(
    session: Session,
    *,
    staff_id: str,
    staff_role: str | None,
    customer_id: str,
    section: str,
    reason: str | None = None,
) -> SectionView:
    """One section of the 360 page on its own, recorded as its own read (screen "customer.section")."""
    _check_section(section)
    clean = clean_reason(reason)
    customer = existing_customer(session, customer_id)
    access = record_access(
        session, staff_id=staff_id, staff_role=staff_role, action="customer.view", customer_id=customer.id,
        screen="customer.section", reason=clean, detail=f"section={section}",
    )
    return SectionView(
        customer=summary(customer), section=_read_section(session, customer.id, section), access=access
    )
