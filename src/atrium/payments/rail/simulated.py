"""A simulated interbank clearing rail with the failures a real one has.

Configured by `settings.rail` (`RailSettings`):
- `timeout_rate`: a submission gets no answer. Half of those are lost on the way in (nothing accepted),
  half on the way back (accepted, receipt lost) — the sender cannot tell which, so it must retry with the
  same instruction id, which the rail dedupes.
- `return_rate`: the receiving bank returns an accepted payment with an ISO 20022 return reason.
- `duplicate_rate`: the rail sends a second notification about the same instruction.
- `settle_delay_s`: how long after acceptance the outcome becomes visible.
- `seed`: with a seed, the sequence of outcomes for a sequence of calls is reproducible.

Sandbox account numbers, like a card network's test cards, force a return whatever the rates say: the
last three digits 404 (account not found), 410 (account closed), 409 (name does not match), 423 (account
blocked).

State lives in `rail_instructions` / `rail_notifications` and is written in the rail's own transactions,
so in-flight instructions survive a restart of Atrium.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from atrium.config import RailSettings
from atrium.db.session import Database
from atrium.kit import clock
from atrium.kit.ids import new_id
from atrium.payments.rail import directory
from atrium.payments.rail.interface import (
    Instruction,
    Notification,
    Participant,
    RailRejected,
    RailTimeout,
    Receipt,
)
from atrium.payments.rail.models import RailInstruction, RailNotification

# ISO 20022 return reason codes (pacs.004) the simulated receiving banks use.
RETURN_REASONS: dict[str, str] = {
    "AC01": "account number not found at the receiving bank",
    "AC04": "account closed",
    "AC06": "account blocked",
    "BE01": "account holder name does not match the account number",
    "MS03": "returned by the receiving bank, reason not given",
}
SANDBOX_RETURNS: dict[str, str] = {"404": "AC01", "410": "AC04", "409": "BE01", "423": "AC06"}
_RANDOM_RETURN_CODES = tuple(sorted(RETURN_REASONS))


@dataclass(frozen=True, slots=True)
class _Draw:
    """All random choices of one submission, drawn together so the sequence never shifts."""

    timeout: bool
    lost_on_way_in: bool
    returned: bool
    return_code: str
    duplicate: bool


class SimulatedRail:
    def __init__(self, db: Database, settings: RailSettings | None = None) -> None:
        self.db = db
        self.settings = settings or RailSettings()
        self._rng = random.Random(self.settings.seed)
        self._lock = threading.Lock()  # the submit and poll jobs share one rail

    def participants(self) -> tuple[Participant, ...]:
        return directory.PARTICIPANTS

    def _draw(self) -> _Draw:
        s = self.settings
        with self._lock:
            r = [self._rng.random() for _ in range(4)]
            code = self._rng.choice(_RANDOM_RETURN_CODES)
        return _Draw(r[0] < s.timeout_rate, r[1] < 0.5, r[2] < s.return_rate, code, r[3] < s.duplicate_rate)

    def submit(self, instruction: Instruction) -> Receipt:
        participant = directory.find(instruction.bank_code)
        if participant is None:
            raise RailRejected("RC01", "unknown receiving bank")
        if instruction.currency not in participant.currencies:
            raise RailRejected("AM03", "currency not cleared for the receiving bank")
        if instruction.amount_minor <= 0:
            raise RailRejected("AM01", "amount must be positive")

        draw = self._draw()
        if draw.timeout and draw.lost_on_way_in:
            raise RailTimeout("no answer from the rail")
        with self.db.unit_of_work() as s:
            row = s.get(RailInstruction, instruction.instruction_id)
            if row is not None:
                if not _same_content(row, instruction):
                    raise RailRejected("DUPL", "instruction id reused for a different payment")
                receipt = Receipt(row.id, row.accepted_at, duplicate=True)
            else:
                row = self._accept(s, instruction, draw)
                receipt = Receipt(row.id, row.accepted_at)
        if draw.timeout:
            # Accepted and committed on the rail's side, but the answer never reaches the sender.
            raise RailTimeout("no answer from the rail")
        return receipt

    def _accept(self, s, instruction: Instruction, draw: _Draw) -> RailInstruction:  # type: ignore[no-untyped-def]
        now = clock.now()
        code = SANDBOX_RETURNS.get(instruction.account_number[-3:])
        if code is None and draw.returned:
            code = draw.return_code
        resolves_at = now + timedelta(seconds=self.settings.settle_delay_s)
        row = RailInstruction(
            id=instruction.instruction_id,
            bank_code=instruction.bank_code,
            account_number=instruction.account_number,
            account_name=instruction.account_name,
            amount_minor=instruction.amount_minor,
            currency=instruction.currency,
            remittance=instruction.remittance,
            accepted_at=now,
            outcome="returned" if code else "settled",
            reason_code=code,
            reason=RETURN_REASONS[code] if code else None,
            resolves_at=resolves_at,
        )
        s.add(row)
        s.flush()
        copies = 2 if draw.duplicate else 1
        for i in range(copies):
            s.add(
                RailNotification(
                    id=new_id("rnt"),
                    instruction_id=row.id,
                    outcome=row.outcome,
                    reason_code=row.reason_code,
                    reason=row.reason,
                    available_at=resolves_at + timedelta(milliseconds=500 * i),
                )
            )
        s.flush()
        return row

    def poll(self, *, limit: int = 100) -> list[Notification]:
        with self.db.read_session() as s:
            rows = s.scalars(
                select(RailNotification)
                .where(RailNotification.acked_at.is_(None), RailNotification.available_at <= clock.now())
                .order_by(RailNotification.available_at, RailNotification.id)
                .limit(limit)
            ).all()
            return [
                Notification(r.id, r.instruction_id, r.outcome, r.reason_code, r.reason,  # type: ignore[arg-type]
                             r.available_at)
                for r in rows
            ]

    def ack(self, notification_id: str) -> None:
        with self.db.unit_of_work() as s:
            row = s.get(RailNotification, notification_id)
            if row is not None and row.acked_at is None:
                row.acked_at = clock.now()


def _same_content(row: RailInstruction, ins: Instruction) -> bool:
    return (row.bank_code, row.account_number, row.account_name, row.amount_minor, row.currency) == (
        ins.bank_code, ins.account_number, ins.account_name, ins.amount_minor, ins.currency
    )
