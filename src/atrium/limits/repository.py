"""All of the limits domain's SQL."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from atrium.kit import clock
from atrium.kit.ids import new_id
from atrium.limits.models import BankLimit, LimitChange, OwnLimit, PaymentSwitches, UsageCounter


def _insert(session: Session, model: type) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT DO NOTHING on both SQLite and PostgreSQL."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


# --- bank limits ----------------------------------------------------------------------------------------


def bank_rows(
    session: Session, *, channel: str | None = None, method: str | None = None, currency: str | None = None
) -> list[BankLimit]:
    stmt = select(BankLimit).order_by(BankLimit.currency, BankLimit.method, BankLimit.channel)
    if channel is not None:
        stmt = stmt.where(BankLimit.channel == channel)
    if method is not None:
        stmt = stmt.where(BankLimit.method == method)
    if currency is not None:
        stmt = stmt.where(BankLimit.currency == currency)
    return list(session.scalars(stmt))


def get_bank_row(session: Session, channel: str, method: str, currency: str) -> BankLimit | None:
    return session.get(BankLimit, (channel, method, currency))


def insert_missing_bank_rows(session: Session, rows: Iterable[dict[str, Any]]) -> int:
    """Insert the rows whose key is not there yet; existing rows (maybe changed by staff) are kept."""
    values = list(rows)
    if not values:
        return 0
    # RETURNING yields only the rows actually inserted (rowcount is not reliable for ORM-enabled inserts).
    inserted = session.execute(
        _insert(session, BankLimit).values(values).on_conflict_do_nothing().returning(BankLimit.channel)
    )
    return len(inserted.all())


# --- the customer's own limits and switches -----------------------------------------------------------------


def get_own(session: Session, customer_id: str, method: str, currency: str) -> OwnLimit | None:
    return session.get(OwnLimit, (customer_id, method, currency))


def own_rows(session: Session, customer_id: str) -> list[OwnLimit]:
    return list(
        session.scalars(
            select(OwnLimit)
            .where(OwnLimit.customer_id == customer_id)
            .order_by(OwnLimit.currency, OwnLimit.method)
        )
    )


def add_own(
    session: Session, *, customer_id: str, method: str, currency: str, per_transaction_minor: int | None,
    daily_minor: int | None,
) -> OwnLimit:
    row = OwnLimit(
        customer_id=customer_id, method=method, currency=currency,
        per_transaction_minor=per_transaction_minor, daily_minor=daily_minor, updated_at=clock.now(),
    )
    session.add(row)
    return row


def get_switches(session: Session, customer_id: str) -> PaymentSwitches | None:
    return session.get(PaymentSwitches, customer_id)


def add_switches(session: Session, *, customer_id: str, **switches: bool) -> PaymentSwitches:
    row = PaymentSwitches(customer_id=customer_id, updated_at=clock.now(), **switches)
    session.add(row)
    return row


def add_change(
    session: Session, *, customer_id: str | None, actor_kind: str, actor_id: str, setting: str,
    old_value: dict[str, Any] | None, new_value: dict[str, Any],
) -> LimitChange:
    row = LimitChange(
        id=new_id("lch"), customer_id=customer_id, actor_kind=actor_kind, actor_id=actor_id, setting=setting,
        old_value=old_value, new_value=new_value, changed_at=clock.now(),
    )
    session.add(row)
    return row


def changes(session: Session, customer_id: str, *, limit: int = 50) -> list[LimitChange]:
    return list(
        session.scalars(
            select(LimitChange)
            .where(LimitChange.customer_id == customer_id)
            .order_by(LimitChange.changed_at.desc(), LimitChange.id.desc())
            .limit(limit)
        )
    )


# --- usage counters -----------------------------------------------------------------------------------------


def lock_counters(
    session: Session, *, customer_id: str, method: str, currency: str, periods: list[tuple[str, str]],
    create: bool = True,
) -> dict[tuple[str, str], int]:
    """Take the (period kind, period key) counters FOR UPDATE, creating missing ones first, in primary-key
    order so two transactions never wait on each other crosswise. Returns the locked `used_minor` values.

    INSERT … ON CONFLICT DO NOTHING makes the creation race-free: a second inserter waits for the first
    one's commit and then inserts nothing; the SELECT … FOR UPDATE after it reads the committed value.
    """
    ordered = sorted(periods)
    if create:
        now = clock.now()
        for kind, key in ordered:
            session.execute(
                _insert(session, UsageCounter)
                .values(customer_id=customer_id, method=method, currency=currency, period_kind=kind,
                        period_key=key, used_minor=0, updated_at=now)
                .on_conflict_do_nothing()
            )
    locked: dict[tuple[str, str], int] = {}
    for kind, key in ordered:
        used = session.execute(
            select(UsageCounter.used_minor)
            .where(
                UsageCounter.customer_id == customer_id, UsageCounter.method == method,
                UsageCounter.currency == currency, UsageCounter.period_kind == kind,
                UsageCounter.period_key == key,
            )
            .with_for_update()
        ).scalar_one_or_none()
        if used is not None:
            locked[(kind, key)] = used
    return locked


def set_counter(
    session: Session, *, customer_id: str, method: str, currency: str, period_kind: str, period_key: str,
    used_minor: int,
) -> None:
    """Write a counter the caller holds locked (see `lock_counters`)."""
    session.execute(
        update(UsageCounter)
        .where(
            UsageCounter.customer_id == customer_id, UsageCounter.method == method,
            UsageCounter.currency == currency, UsageCounter.period_kind == period_kind,
            UsageCounter.period_key == period_key,
        )
        .values(used_minor=used_minor, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )


def usage_rows(
    session: Session, customer_id: str, *, day_key: str, month_key: str
) -> dict[tuple[str, str, str], int]:
    """{(method, currency, period kind): used} for one day and its month, unlocked (for display)."""
    rows = session.execute(
        select(UsageCounter.method, UsageCounter.currency, UsageCounter.period_kind, UsageCounter.used_minor)
        .where(UsageCounter.customer_id == customer_id)
        .where(
            ((UsageCounter.period_kind == "day") & (UsageCounter.period_key == day_key))
            | ((UsageCounter.period_kind == "month") & (UsageCounter.period_key == month_key))
        )
    )
    return {(m, c, k): used for m, c, k, used in rows}
