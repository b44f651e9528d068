"""Driving the risk decision from payments tests the way the bank does: rules published by two people and
list entries added through `atrium.risk.service` — never a hard-coded outcome in product code."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import func, select

from atrium.config import get_settings
from atrium.db.session import Database
from atrium.ledger.models import Hold
from atrium.payments.models import Transfer
from atrium.risk import service as risk
from atrium.risk.models import RiskCase, RiskDecision
from atrium.risk.schemas import ListEntryCreate, RuleCreate
from atrium.risk.service import setup, state

AUTHOR, CHECKER = "stf_risk_author", "stf_risk_checker"

# The journeys' rules: expressions over features, as an analyst would write them.
CHALLENGE_NEW_PAYEE = "payee_new_for_customer and amount > 1000"
REVIEW_LARGE = "amount > 3000"


def fresh_caches() -> None:
    """A new process: no feature state, no cached configuration (the tables were emptied)."""
    state.reset()
    setup.clear()


@contextmanager
def fresh() -> Iterator[None]:
    fresh_caches()
    yield
    fresh_caches()


PAYMENT_CHANNELS = ("transfer", "qr", "login", "device", "payee")
# Tests run beside a browser and other workers on two cores: a decision's real budget (tens of ms) would
# make their outcomes depend on the machine's load. They get a generous one, except where the budget itself
# is under test.
GENEROUS_MS, TIGHT_MS = 5_000, 30


def budget(monkeypatch: pytest.MonkeyPatch, timeout_ms: int) -> None:
    """Every channel's decision budget for this test (the channels' other policy fields stay)."""
    monkeypatch.setattr(get_settings().risk, "policies",
                        {channel: {"timeout_ms": timeout_ms} for channel in PAYMENT_CHANNELS})


def publish_rule(db: Database, key: str, expression: str, action: str, *, reason: str = "",
                 weight: float = 0.0) -> str:
    """Propose a live rule and have a second person approve it (maker-checker); returns the rule id."""
    with db.unit_of_work() as s:
        rule = risk.propose_rule(s, AUTHOR, RuleCreate(key=key, expression=expression, action=action,  # type: ignore[arg-type]
                                                       reason=reason, weight=weight, mode="live"))
        risk.approve_rule(s, rule.id, CHECKER)
    return rule.id


def block_payee(db: Database, payee_ref: str) -> str:
    """Put a payee on the block list (the raw reference payments screens with: `payments.payee_ref`)."""
    with db.unit_of_work() as s:
        entry = risk.add_entry(s, ListEntryCreate(list_kind="block", subject_kind="payee", value=payee_ref,
                                                  reason="mule account reported by another bank"), CHECKER)
    return entry.id


def atrium_payee(number: str) -> str:
    """The risk lists' reference of an Atrium account (`payments.payee_ref` of such a destination)."""
    return f"ATRM:{number}"


def decisions(db: Database, **where: Any) -> list[RiskDecision]:
    with db.read_session() as s:
        stmt = select(RiskDecision).order_by(RiskDecision.seq)
        for name, value in where.items():
            stmt = stmt.where(getattr(RiskDecision, name) == value)
        return list(s.scalars(stmt))


def case_for(db: Database, decision_id: str) -> RiskCase:
    with db.read_session() as s:
        case = s.scalar(select(RiskCase).where(RiskCase.decision_id == decision_id))
    assert case is not None, f"no case for {decision_id}"
    return case


def transfer_row(db: Database, transfer_id: str) -> Transfer:
    with db.read_session() as s:
        row = s.get(Transfer, transfer_id)
    assert row is not None
    return row


def transfers_count(db: Database) -> int:
    with db.read_session() as s:
        return int(s.scalar(select(func.count()).select_from(Transfer)) or 0)


def hold_status(db: Database, hold_id: str) -> str:
    with db.read_session() as s:
        hold = s.get(Hold, hold_id)
    assert hold is not None
    return hold.status
