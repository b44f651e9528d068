"""All of the ledger's SQL. Functions take the caller's session and never commit."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, case, func, insert, literal, select, text, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from atrium.ledger.models import Hold, Journal, LedgerAccount, Leg


def _insert_ignoring(session: Session, entity: type, conflict_column: Any):  # type: ignore[no-untyped-def]
    """INSERT … ON CONFLICT (col) DO NOTHING: a duplicate waits for the first writer, then yields no row,
    without aborting the transaction (a plain failed INSERT would abort a PostgreSQL transaction)."""
    dialect = session.get_bind().dialect.name
    ins = postgresql.insert(entity) if dialect == "postgresql" else sqlite.insert(entity)
    return ins.on_conflict_do_nothing(index_elements=[conflict_column])


# The posting path's statements are built once, here, with bound parameters: a call only passes values, so
# it neither builds a statement nor computes its cache key from scratch, and the compiled SQL is reused.

_LOCK_ACCOUNTS = (
    select(LedgerAccount)
    .where(LedgerAccount.id.in_(bindparam("ids", expanding=True)))
    .order_by(LedgerAccount.id)
    .with_for_update()
    .execution_options(populate_existing=True)
)
_GET_ACCOUNT = (
    select(LedgerAccount)
    .where(LedgerAccount.id == bindparam("account_id"))
    .execution_options(populate_existing=True)
)
_ACCOUNTS = LedgerAccount.__table__
_UPDATE_TOTALS = (
    update(_ACCOUNTS)
    .where(_ACCOUNTS.c.id == bindparam("account_id"))
    .values(
        debits_posted=bindparam("dp"), credits_posted=bindparam("cp"),
        debits_pending=bindparam("dpend"), credits_pending=bindparam("cpend"),
    )
)
_KEYS = bindparam("keys", expanding=True)
_FIND_KEYS = union_all(
    select(Journal.idempotency_key, literal("journal"), Journal.id, Journal.request_hash).where(
        Journal.idempotency_key.in_(_KEYS)
    ),
    select(Hold.idempotency_key, literal("hold"), Hold.id, Hold.request_hash).where(
        Hold.idempotency_key.in_(_KEYS)
    ),
    select(Hold.void_idempotency_key, literal("void"), Hold.id, Hold.void_request_hash).where(
        Hold.void_idempotency_key.in_(_KEYS)
    ),
)
_JOURNALS = Journal.__table__
_INSERT_LEGS = insert(Leg.__table__)
# Journal attribute → column key (`meta` is stored in the column named "metadata").
_JOURNAL_COLUMN = {attr.key: attr.columns[0].key for attr in Journal.__mapper__.column_attrs}
# The dialects' INSERT … ON CONFLICT constructs are never cached by SQLAlchemy (`inherit_cache = False`),
# so the ORM form was compiled anew for every journal. This one statement is written out instead — the same
# SQL on SQLite and PostgreSQL — from the table's own columns, each parameter typed by its column (JSON,
# timestamps), so it compiles once.
_INSERT_JOURNAL = text(
    f"INSERT INTO {_JOURNALS.name} ({', '.join(c.name for c in _JOURNALS.c)})"  # noqa: S608 - names from the model
    f" VALUES ({', '.join(':' + c.key for c in _JOURNALS.c)})"
    f" ON CONFLICT ({_JOURNALS.c.idempotency_key.name}) DO NOTHING RETURNING {_JOURNALS.c.id.name}"
).bindparams(*(bindparam(c.key, type_=c.type) for c in _JOURNALS.c))


# --- accounts -----------------------------------------------------------------------------------------


def lock_accounts(session: Session, ids: Collection[str]) -> dict[str, LedgerAccount]:
    """SELECT … FOR UPDATE in ascending id order (so two transfers never deadlock on each other), with
    the freshly locked values replacing whatever the session had cached. SQLite ignores FOR UPDATE: its
    write transaction (BEGIN IMMEDIATE) is already exclusive."""
    return {a.id: a for a in session.scalars(_LOCK_ACCOUNTS, {"ids": sorted(set(ids))})}


def get_account(session: Session, account_id: str) -> LedgerAccount | None:
    return session.scalar(_GET_ACCOUNT, {"account_id": account_id})


def get_account_by_code(session: Session, code: str) -> LedgerAccount | None:
    return session.scalar(
        select(LedgerAccount).where(LedgerAccount.code == code).execution_options(populate_existing=True)
    )


def insert_account(session: Session, values: dict[str, Any], *, ignore_code_conflict: bool) -> bool:
    """Insert an account; with `ignore_code_conflict`, a concurrent creator of the same code wins quietly."""
    if ignore_code_conflict:
        stmt = _insert_ignoring(session, LedgerAccount, LedgerAccount.code).values(**values)
        return bool(session.execute(stmt.returning(LedgerAccount.id)).first())
    session.execute(insert(LedgerAccount).values(**values))
    return True


def update_totals(session: Session, totals: Sequence[dict[str, Any]]) -> None:
    """Write the four cached totals of the locked accounts: one executemany for all of them (pipelined by
    psycopg), instead of one UPDATE per distinct set of changed columns."""
    if not totals:
        return
    session.execute(_UPDATE_TOTALS, list(totals))


def all_accounts(session: Session) -> Sequence[LedgerAccount]:
    return session.scalars(
        select(LedgerAccount).order_by(LedgerAccount.id).execution_options(populate_existing=True)
    ).all()


# --- idempotency keys ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeyUse:
    """Where an idempotency key was used: a journal, a hold placement or a hold void."""

    key: str
    what: str  # journal | hold | void
    id: str
    request_hash: str


def find_keys(session: Session, keys: Collection[str]) -> dict[str, KeyUse]:
    """One round trip over the three unique key indexes."""
    if not keys:
        return {}
    rows = session.execute(_FIND_KEYS, {"keys": list(keys)})
    return {row[0]: KeyUse(row[0], row[1], row[2], row[3] or "") for row in rows}


# --- journals and legs --------------------------------------------------------------------------------


def insert_journal(session: Session, values: dict[str, Any]) -> bool:
    """Insert a journal unless its idempotency key exists (returns False then, nothing written).
    `values` holds every column, keyed by the Journal's attribute names."""
    # Every column is given (a missing one fails loudly: a written-out INSERT applies no column defaults).
    params = {_JOURNAL_COLUMN[k]: v for k, v in values.items()}
    return bool(session.execute(_INSERT_JOURNAL, params).first())


def insert_journals(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """A plain multi-row insert (the batch path runs it inside a savepoint)."""
    if rows:
        session.execute(insert(Journal), list(rows))


def insert_legs(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """A Core executemany on the table (the keys are Leg's attribute names, which are its column names)."""
    if rows:
        session.execute(_INSERT_LEGS, list(rows))


def get_journal(session: Session, journal_id: str) -> Journal | None:
    return session.get(Journal, journal_id)


def journals_with_legs(
    session: Session, journal_ids: Collection[str]
) -> dict[str, tuple[Journal, list[Leg]]]:
    if not journal_ids:
        return {}
    journals = session.scalars(select(Journal).where(Journal.id.in_(list(journal_ids)))).all()
    out: dict[str, tuple[Journal, list[Leg]]] = {j.id: (j, []) for j in journals}
    legs = session.scalars(select(Leg).where(Leg.journal_id.in_(list(out))).order_by(Leg.id))
    for leg in legs:
        out[leg.journal_id][1].append(leg)
    return out


def reversal_of(session: Session, journal_id: str) -> str | None:
    return session.scalar(select(Journal.id).where(Journal.reverses_id == journal_id))


def journal_account_ids(session: Session, journal_id: str) -> list[str]:
    return list(session.scalars(select(Leg.account_id).where(Leg.journal_id == journal_id).distinct()))


def entries_query(
    account_id: str,
    *,
    since: datetime | None,
    until: datetime | None,
    kinds: Iterable[str] | None,
    min_amount: int | None,
    max_amount: int | None,
    side: str | None,
    before_id: int | None,
    limit: int,
) -> Select[Any]:
    stmt = (
        select(Leg, Journal.kind, Journal.description, Journal.meta, Journal.reverses_id)
        .join(Journal, Journal.id == Leg.journal_id)
        .where(Leg.account_id == account_id)
    )
    if since is not None:
        stmt = stmt.where(Leg.posted_at >= since)
    if until is not None:
        stmt = stmt.where(Leg.posted_at < until)
    if kinds:
        stmt = stmt.where(Journal.kind.in_(list(kinds)))
    if min_amount is not None:
        stmt = stmt.where(Leg.amount_minor >= min_amount)
    if max_amount is not None:
        stmt = stmt.where(Leg.amount_minor <= max_amount)
    if side is not None:
        stmt = stmt.where(Leg.side == side)
    if before_id is not None:
        stmt = stmt.where(Leg.id < before_id)
    return stmt.order_by(Leg.id.desc()).limit(limit)


# --- holds --------------------------------------------------------------------------------------------


def insert_hold(session: Session, values: dict[str, Any]) -> bool:
    stmt = _insert_ignoring(session, Hold, Hold.idempotency_key).values(**values)
    return bool(session.execute(stmt.returning(Hold.id)).first())


def get_hold(session: Session, hold_id: str) -> Hold | None:
    """The hold as committed now (re-read after the account locks are held)."""
    return session.scalar(select(Hold).where(Hold.id == hold_id).execution_options(populate_existing=True))


def holds(session: Session, hold_ids: Collection[str]) -> list[Hold]:
    stmt = (
        select(Hold)
        .where(Hold.id.in_(sorted(hold_ids)))
        .order_by(Hold.id)
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(stmt))


def expired_pending_holds(session: Session, now: datetime, limit: int) -> list[tuple[str, str, str]]:
    stmt = (
        select(Hold.id, Hold.debit_account_id, Hold.credit_account_id)
        .where(Hold.status == "pending", Hold.expires_at <= now)
        .order_by(Hold.expires_at, Hold.id)
        .limit(limit)
    )
    return [(r[0], r[1], r[2]) for r in session.execute(stmt)]


# --- aggregates for the trial balance and the check ---------------------------------------------------


def leg_sums_by_currency(session: Session) -> list[tuple[str, str, int]]:
    stmt = select(Leg.currency, Leg.side, func.sum(Leg.amount_minor)).group_by(Leg.currency, Leg.side)
    return [(r[0], r[1], int(r[2] or 0)) for r in session.execute(stmt)]


def leg_sums_by_account(session: Session) -> dict[tuple[str, str], int]:
    stmt = select(Leg.account_id, Leg.side, func.sum(Leg.amount_minor)).group_by(Leg.account_id, Leg.side)
    return {(r[0], r[1]): int(r[2] or 0) for r in session.execute(stmt)}


def pending_hold_sums(session: Session) -> tuple[dict[str, int], dict[str, int]]:
    """Per account: the sum of pending holds it is the debit side of, and the credit side of."""
    debit = select(Hold.debit_account_id, func.sum(Hold.amount_minor)).where(Hold.status == "pending")
    credit = select(Hold.credit_account_id, func.sum(Hold.amount_minor)).where(Hold.status == "pending")
    d = {r[0]: int(r[1]) for r in session.execute(debit.group_by(Hold.debit_account_id))}
    c = {r[0]: int(r[1]) for r in session.execute(credit.group_by(Hold.credit_account_id))}
    return d, c


def unbalanced_journals(session: Session) -> list[tuple[str, str, int]]:
    """(journal id, currency, debits − credits) for every journal that does not balance."""
    net = func.sum(case((Leg.side == "debit", Leg.amount_minor), else_=-Leg.amount_minor))
    stmt = select(Leg.journal_id, Leg.currency, net).group_by(Leg.journal_id, Leg.currency).having(net != 0)
    return [(r[0], r[1], int(r[2])) for r in session.execute(stmt)]


def legs_with_wrong_currency(session: Session) -> list[tuple[int, str, str, str]]:
    stmt = (
        select(Leg.id, Leg.account_id, Leg.currency, LedgerAccount.currency)
        .join(LedgerAccount, LedgerAccount.id == Leg.account_id)
        .where(Leg.currency != LedgerAccount.currency)
    )
    return [(r[0], r[1], r[2], r[3]) for r in session.execute(stmt)]


def journals_without_legs(session: Session) -> list[str]:
    stmt = select(Journal.id).where(~select(Leg.id).where(Leg.journal_id == Journal.id).exists())
    return list(session.scalars(stmt))


def last_balance_after(session: Session) -> dict[str, int]:
    """Each account's newest leg's balance snapshot (it must equal the account's booked balance)."""
    newest = select(Leg.account_id, func.max(Leg.id).label("id")).group_by(Leg.account_id).subquery()
    stmt = select(Leg.account_id, Leg.balance_after_minor).join(newest, newest.c.id == Leg.id)
    return {r[0]: int(r[1]) for r in session.execute(stmt)}


def count_journals(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Journal)) or 0)
