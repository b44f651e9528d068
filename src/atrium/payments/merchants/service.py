"""Merchant use cases: create, read, list, change status, open settlement accounts, read balances, and
`payable_account` — what QR pay asks before paying a merchant. Services flush, never commit."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from atrium.kit import clock
from atrium.kit.ids import new_id
from atrium.kit.money import CURRENCY_EXPONENT
from atrium.kit.pagination import decode_cursor, encode_cursor
from atrium.ledger import service as ledger
from atrium.payments import domain
from atrium.payments.domain import RuleBroken
from atrium.payments.merchants.errors import (
    InvalidMerchant,
    MerchantCurrencyNotAccepted,
    MerchantNotActive,
    MerchantNotFound,
    MerchantStatusFinal,
    NotAllowedToManageMerchants,
)
from atrium.payments.merchants.models import Merchant, MerchantAccount
from atrium.payments.merchants.schemas import (
    CATEGORIES,
    MerchantBalance,
    MerchantPage,
    MerchantPublic,
    MerchantRead,
)

MANAGER_ROLES = frozenset({"operator", "administrator"})
STATUSES = ("active", "suspended", "closed")
CITY_MAX = 80


def require_manager(staff_role: str | None) -> None:
    """Creating merchants and changing their status moves where money can go: operators only."""
    if staff_role not in MANAGER_ROLES:
        raise NotAllowedToManageMerchants("only operators and administrators manage merchants")


def settlement_code(merchant_id: str, currency: str) -> str:
    return f"merchant:{merchant_id}:{currency}"


def _clean(value: str, what: str, limit: int) -> str:
    try:
        cleaned = domain.normalise_name(value)
    except RuleBroken as exc:
        raise InvalidMerchant(f"{what}: {exc}") from None
    if len(cleaned) > limit:
        raise InvalidMerchant(f"{what}: at most {limit} characters")
    return cleaned


def _currencies(values: Iterable[str]) -> list[str]:
    out = sorted(set(values))
    if not out:
        raise InvalidMerchant("a merchant accepts at least one currency")
    for c in out:
        if c not in CURRENCY_EXPONENT:
            raise InvalidMerchant(f"unsupported currency {c!r}", currency=c)
    return out


def _row(session: Session, merchant_id: str, *, lock: bool = False) -> Merchant:
    stmt = select(Merchant).where(Merchant.id == merchant_id)
    if lock:
        stmt = stmt.with_for_update()
    m = session.scalar(stmt)
    if m is None:
        raise MerchantNotFound("no such merchant", merchant_id=merchant_id)
    return m


def _accounts(session: Session, merchant_id: str) -> list[MerchantAccount]:
    return list(session.scalars(
        select(MerchantAccount).where(MerchantAccount.merchant_id == merchant_id)
        .order_by(MerchantAccount.currency)
    ))


def _balance(session: Session, acc: MerchantAccount) -> MerchantBalance:
    lac = ledger.get_account(session, acc.ledger_account_id)
    return MerchantBalance(currency=acc.currency, ledger_account_id=acc.ledger_account_id,
                           booked_minor=lac.booked_minor, available_minor=lac.available_minor)


def _public(m: Merchant) -> MerchantPublic:
    return MerchantPublic(id=m.id, name=m.name, category=m.category, city=m.city, status=m.status)


def _read(session: Session, m: Merchant) -> MerchantRead:
    return MerchantRead(
        **_public(m).model_dump(), balances=[_balance(session, a) for a in _accounts(session, m.id)],
        created_at=m.created_at, updated_at=m.updated_at,
    )


def _open_account(session: Session, m: Merchant, currency: str) -> MerchantAccount:
    existing = session.get(MerchantAccount, (m.id, currency))
    if existing is not None:
        return existing
    # A liability with its floor enforced: a merchant's balance can never go below zero (a refund or a
    # payout larger than what customers paid it is refused by the ledger itself).
    lac = ledger.open_account(
        session, name=f"Merchant settlement {currency} ({m.id})", type="liability", currency=currency,
        enforce_floor=True, code=settlement_code(m.id, currency),
    )
    acc = MerchantAccount(
        merchant_id=m.id, currency=currency, ledger_account_id=lac.id, created_at=clock.now()
    )
    session.add(acc)
    session.flush()
    return acc


def create_merchant(
    session: Session, *, name: str, category: str, city: str, currencies: Iterable[str] = ("CNY",),
) -> MerchantRead:
    """A new active merchant with a settlement account in each of `currencies`."""
    if category not in CATEGORIES:
        raise InvalidMerchant(f"unknown category {category!r}; one of {', '.join(CATEGORIES)}")
    now = clock.now()
    m = Merchant(
        id=new_id("mer"), name=_clean(name, "name", domain.NAME_MAX), category=category,
        city=_clean(city, "city", CITY_MAX), status="active", created_at=now, updated_at=now,
    )
    ccys = _currencies(currencies)
    session.add(m)
    session.flush()
    for c in ccys:
        _open_account(session, m, c)
    return _read(session, m)


def open_settlement_account(session: Session, *, merchant_id: str, currency: str) -> MerchantBalance:
    """Let the merchant accept another currency. Idempotent: an existing account is returned as is."""
    (currency,) = _currencies([currency])
    m = _row(session, merchant_id, lock=True)  # serialises two concurrent openings of one currency
    if m.status == "closed":
        raise MerchantNotActive("the merchant is closed", merchant_id=merchant_id)
    return _balance(session, _open_account(session, m, currency))


def get_merchant(session: Session, merchant_id: str) -> MerchantRead:
    return _read(session, _row(session, merchant_id))


def get_public(session: Session, merchant_id: str) -> MerchantPublic:
    return _public(_row(session, merchant_id))


def merchant_balance(session: Session, merchant_id: str) -> list[MerchantBalance]:
    _row(session, merchant_id)
    return [_balance(session, a) for a in _accounts(session, merchant_id)]


def list_merchants(
    session: Session, *, status: str | None = None, category: str | None = None, cursor: str | None = None,
    limit: int = 50,
) -> MerchantPage:
    """Merchants, newest first (ids are time-ordered, so the id is the keyset)."""
    limit = max(1, min(limit, 100))
    stmt = select(Merchant)
    if status is not None:
        stmt = stmt.where(Merchant.status == status)
    if category is not None:
        stmt = stmt.where(Merchant.category == category)
    if cursor:
        (last,) = decode_cursor(cursor, size=1)
        if not isinstance(last, str):
            raise InvalidMerchant("malformed cursor")
        stmt = stmt.where(Merchant.id < last)
    rows = list(session.scalars(stmt.order_by(Merchant.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return MerchantPage(items=[_read(session, m) for m in rows],
                        next_cursor=encode_cursor([rows[-1].id]) if more and rows else None)


def set_status(session: Session, *, merchant_id: str, status: str) -> MerchantRead:
    """Suspend, reactivate or close a merchant. Closing is final; setting the current status is a no-op."""
    if status not in STATUSES:
        raise InvalidMerchant(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
    m = _row(session, merchant_id, lock=True)
    if m.status != status:
        if m.status == "closed":
            raise MerchantStatusFinal("a closed merchant stays closed", merchant_id=merchant_id)
        m.status = status
        m.updated_at = clock.now()
        session.flush()
    return _read(session, m)


def payable_account(session: Session, *, merchant_id: str, currency: str) -> tuple[MerchantPublic, str]:
    """The merchant (must be active) and its settlement ledger account in `currency`, for a payment."""
    m = _row(session, merchant_id)
    if m.status != "active":
        raise MerchantNotActive("the merchant is not accepting payments", merchant_id=merchant_id)
    acc = session.get(MerchantAccount, (merchant_id, currency))
    if acc is None:
        raise MerchantCurrencyNotAccepted(
            f"the merchant does not accept {currency}", merchant_id=merchant_id, currency=currency,
        )
    return _public(m), acc.ledger_account_id
