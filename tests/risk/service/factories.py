"""Small factories for the risk tests: events to screen, rules published by two people, list entries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy.orm import Session

from atrium.config import reset_settings_cache
from atrium.kit.ids import new_id
from atrium.risk import service
from atrium.risk.domain.events import CHANNELS
from atrium.risk.schemas import ListEntryCreate, RiskEventIn, RuleCreate, RuleRead

MAKER = "staff_maker"
CHECKER = "staff_checker"


def event(**fields: Any) -> RiskEventIn:
    """A transfer by customer c1 to one payee from one device, unless told otherwise."""
    values: dict[str, Any] = {
        "channel": "transfer", "subject_ref": new_id("trf"), "amount_minor": 12_000, "currency": "CNY",
        "customer_id": "cust_1", "account_id": "acct_1", "payee_ref": "6222000012345678",
        "device_id": "device-aaaa-1111", "ip": "10.1.2.3",
    }
    values.update(fields)
    return RiskEventIn(**values)


def publish_rule(s: Session, expression: str, action: str = "review", *, key: str | None = None,
                 weight: float = 0.0, mode: str = "live") -> RuleRead:
    proposal = service.propose_rule(s, MAKER, RuleCreate(
        key=key or f"r_{new_id('x').lower()[-8:]}", expression=expression, action=action,  # type: ignore[arg-type]
        weight=weight, mode=mode))  # type: ignore[arg-type]
    return service.approve_rule(s, proposal.id, CHECKER)


def block(s: Session, subject_kind: str, value: str, **fields: Any) -> str:
    entry = service.add_entry(s, ListEntryCreate(list_kind=fields.pop("list_kind", "block"),
                                                 subject_kind=subject_kind, value=value, **fields), CHECKER)
    return entry.id


@contextmanager
def generous_budgets(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Decision budgets of seconds, not milliseconds: a test about what the engine decides must not turn
    into a fallback because a busy CI machine paused the engine thread. Tests about timeouts set their
    own policies (which replace these)."""
    policies = {channel: {"timeout_ms": 10_000} for channel in CHANNELS}
    monkeypatch.setenv("ATRIUM_RISK__POLICIES", json.dumps(policies))
    reset_settings_cache()
    yield
    monkeypatch.undo()
    reset_settings_cache()
