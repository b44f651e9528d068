"""Idempotent writes at the edge: the same key and the same body return the first result; the same key
with another body is a 409. The key row is inserted in the request's own transaction, so a concurrent
duplicate waits on the unique index and then sees the stored response (or retries if the first failed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from atrium.db.base import Base
from atrium.kit import clock
from atrium.kit.errors import Conflict, IdempotencyConflict, ValidationFailed
from atrium.kit.hashing import fingerprint


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(String(80), primary_key=True)  # e.g. "customer:cus_…:transfers"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: Any


def check_key(key: str) -> str:
    if not (8 <= len(key) <= 100) or not key.isprintable():
        raise ValidationFailed("Idempotency-Key must be 8 to 100 printable characters")
    return key


def lookup(session: Session, scope: str, key: str, body: Any) -> StoredResponse | None:
    """The stored response for (scope, key) if this exact request was already answered, else None.

    Raises IdempotencyConflict when the key was used with a different body.
    """
    rec = session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
    )
    if rec is None:
        return None
    if rec.request_hash != fingerprint(body):
        raise IdempotencyConflict(
            "this Idempotency-Key was already used with a different request", idempotency_key=key
        )
    return StoredResponse(rec.status_code, rec.response)


class IdempotencyKeyInFlight(Conflict):
    """Two requests with one key ran at once; the other one committed first."""

    code = "idempotency-key-in-flight"
    title = "A request with this Idempotency-Key was being processed at the same time"


def store(session: Session, scope: str, key: str, body: Any, status_code: int, response: Any) -> None:
    """Remember the response in the same transaction as the write it answers.

    When a concurrent request with the same key committed first (PostgreSQL: our INSERT waited on the
    unique index, then failed), this raises IdempotencyKeyInFlight (409): the edge rolls the whole
    transaction back, so the write is not done twice, and the client's retry gets the stored response.
    """
    session.flush()  # the caller's own pending writes fail (or not) on their own account, not as ours
    session.add(
        IdempotencyRecord(
            scope=scope,
            key=key,
            request_hash=fingerprint(body),
            status_code=status_code,
            response=response,
        )
    )
    try:
        session.flush()
    except IntegrityError as exc:
        raise IdempotencyKeyInFlight(
            "another request with this Idempotency-Key finished first; retry to get its result",
            idempotency_key=key,
        ) from exc
