"""The clearing rail seam: what Atrium needs from an interbank payment system, and nothing more.

A rail accepts payment instructions and later reports, for each, that it settled or was returned by the
receiving bank. It is an external system, so the contract is at-least-once and retry-friendly:

- `submit` is idempotent by `instruction_id`: re-submitting the same instruction (after a timeout whose
  outcome we could not see) returns a receipt with `duplicate=True` and never pays twice. The same id with
  different content is refused.
- `poll` returns notifications that have not been acknowledged; they may arrive more than once, and a
  rail may send two notifications about one instruction. The consumer makes its reaction idempotent and
  calls `ack` only after its own transaction committed, so a crash in between means a redelivery, not a
  loss.

Callers must never hold a database transaction open across a rail call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

Outcome = Literal["settled", "returned"]


@dataclass(frozen=True, slots=True)
class Participant:
    """A bank reachable through the rail (what the payee form offers)."""

    code: str
    name: str
    local_name: str
    currencies: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Instruction:
    instruction_id: str
    bank_code: str
    account_number: str
    account_name: str
    amount_minor: int
    currency: str
    remittance: str = ""


@dataclass(frozen=True, slots=True)
class Receipt:
    instruction_id: str
    accepted_at: datetime
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class Notification:
    id: str
    instruction_id: str
    outcome: Outcome
    reason_code: str | None
    reason: str | None
    occurred_at: datetime


class RailError(Exception):
    """Base of the rail's own failures (not user-facing: the payments service translates them)."""


class RailTimeout(RailError):
    """No answer in time: the instruction may or may not have been accepted. Retry with the same id."""


class RailRejected(RailError):
    """The rail refused the instruction outright (unknown bank, unsupported currency, malformed)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


class ClearingRail(Protocol):
    def participants(self) -> tuple[Participant, ...]: ...

    def submit(self, instruction: Instruction) -> Receipt: ...

    def poll(self, *, limit: int = 100) -> list[Notification]: ...

    def ack(self, notification_id: str) -> None: ...
