"""What the group commit tests share: a probe table, units that write to it, and what is committed."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.orm import Session

from atrium.db.session import Database
from atrium.kit.errors import BusinessRuleViolated

probe_meta = MetaData()
rows = Table("test_batching_rows", probe_meta, Column("name", String(40), primary_key=True),
             Column("value", Integer, nullable=False))


class NotEnough(BusinessRuleViolated):
    code = "not-enough"


def committed(db: Database) -> dict[str, int]:
    """What another connection sees: only committed rows (a reader: SQLite's write engine begins
    IMMEDIATE and would wait for the writer)."""
    with db.read_engine.connect() as conn:
        return {r.name: r.value for r in conn.execute(select(rows))}


def put(name: str, value: int = 1):  # type: ignore[no-untyped-def]
    def fn(session: Session) -> str:
        session.execute(insert(rows).values(name=name, value=value))
        return name

    return fn


def insert_all(session: Session, requests: list[tuple[str, int]]) -> list[str]:
    """A set-wise `apply_batch`: one multi-row INSERT for the whole batch; refuses negative values."""
    if any(value < 0 for _, value in requests):
        raise NotEnough("a negative amount in the batch")
    session.execute(insert(rows), [{"name": n, "value": v} for n, v in requests])
    return [n for n, _ in requests]
