"""Anti-fraud data for the console's tests, made through the risk service as production makes it: rules
proposed by one analyst and approved by another, and transfers screened through `risk.screen` (a live
`review` rule holds them, which opens a case)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from atrium.config import reset_settings_cache
from atrium.db.session import Database
from atrium.kit import clock
from atrium.kit.ids import new_id
from atrium.risk import service as risk
from atrium.risk.schemas import RiskEventIn, RuleCreate
from tests.web.staff.factories import StaffUser, make_staff

# A test rule, not a production one: it only needs to fire on the amounts these tests choose.
REVIEW_RULE = "amount >= 5000 and customer_count_1h >= 1"


CHANNELS = ("transfer", "qr", "card", "login", "device", "payee", "api")
BANK_TZ = timezone(timedelta(hours=8))


@contextmanager
def generous_budgets() -> Iterator[None]:
    """Decision budgets of seconds: these tests are about what the console shows, and a busy machine
    pausing the engine thread past the 50 ms budget would turn a held transfer into a fallback."""
    name = "ATRIUM_RISK__POLICIES"
    before = os.environ.get(name)
    os.environ[name] = json.dumps({channel: {"timeout_ms": 10_000} for channel in CHANNELS})
    reset_settings_cache()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before
        reset_settings_cache()


def afternoon() -> datetime:
    """The latest 14:00 in the bank's time zone: a daytime moment, whenever the tests run."""
    now = clock.now().astimezone(BANK_TZ)
    at = now.replace(hour=14, minute=0, second=0, microsecond=0)
    return at if at <= now else at - timedelta(days=1)


@dataclass(frozen=True)
class Analysts:
    maker: StaffUser
    checker: StaffUser


def analysts(db: Database, prefix: str = "fraud") -> Analysts:
    return Analysts(
        maker=make_staff(db, "risk_analyst", username=f"{prefix}.maker", display_name="张分析"),
        checker=make_staff(db, "risk_analyst", username=f"{prefix}.checker", display_name="李复核"),
    )


def publish_rule(db: Database, team: Analysts, *, key: str = "big_transfer_review",
                 expression: str = REVIEW_RULE, action: str = "review", mode: str = "live",
                 weight: float = 0.2) -> str:
    """A rule proposed by the maker and approved by the checker: published, acting (if live)."""
    with db.unit_of_work() as s:
        rule = risk.propose_rule(s, team.maker.id, RuleCreate(
            key=key, expression=expression, action=action, weight=weight, mode=mode,  # type: ignore[arg-type]
            note="console test rule"))
        risk.approve_rule(s, rule.id, team.checker.id)
        return rule.id


def propose(db: Database, author: StaffUser, *, key: str = "night_new_payee",
            expression: str = "hour_of_day < 6 and amount > 2000", action: str = "challenge") -> str:
    with db.unit_of_work() as s:
        return risk.propose_rule(s, author.id, RuleCreate(
            key=key, expression=expression, action=action, weight=0.1, mode="shadow",  # type: ignore[arg-type]
            note="夜间大额转给新收款人")).id


def screen_transfer(db: Database, customer_id: str, amount_minor: int, *, device: str = "device-7f3a9c",
                    ip: str = "203.0.113.45", payee: str = "6222021234567890123") -> tuple[str, str | None]:
    """Screen a transfer as payments would (in the afternoon); (decision id, case id or None)."""
    with generous_budgets(), db.unit_of_work() as s:
        d = risk.screen(s, RiskEventIn(
            channel="transfer", subject_ref=new_id("trf"), occurred_at=afternoon(), amount_minor=amount_minor,
            currency="CNY", customer_id=customer_id, device_id=device, ip=ip, payee_ref=payee))
        return d.id, d.case_id


def held_case(db: Database, customer_id: str, amount_minor: int = 880_000, **kw: str) -> str:
    """A transfer the published review rule holds: its case id."""
    _, case_id = screen_transfer(db, customer_id, amount_minor, **kw)
    assert case_id, "the review rule did not hold the transfer"
    return case_id


def labelled_history(db: Database, customer_id: str, *, rows: int = 60) -> datetime:
    """Transfers screened over the past weeks, those at night from one device labelled fraud — amounts
    alike, so a model learns the night device, and afternoon transfers score low. Where it starts."""
    start = clock.now() - timedelta(days=40)
    with generous_budgets(), db.unit_of_work() as s:
        for i in range(rows):
            fraud = i % 3 == 0
            at = (start + timedelta(days=i // 2)).astimezone(BANK_TZ).replace(hour=3 if fraud else 15)
            d = risk.screen(s, RiskEventIn(
                channel="transfer", subject_ref=new_id("trf"), occurred_at=at,
                amount_minor=20_000 + 3_000 * i, customer_id=customer_id,
                device_id="device-night" if fraud else f"device-{i % 4}", ip="203.0.113.45",
                payee_ref=f"62220212345{i % 5:06d}"))
            risk.label(s, d.id, fraud, "import")
    return start


def train_champion(db: Database, customer_id: str, team: Analysts, *, rows: int = 60) -> str:
    """A small champion learnt from this test's own labelled history (the bootstrap model takes ~15 s),
    promoted by the checker. Its version."""
    start = labelled_history(db, customer_id, rows=rows)
    with db.unit_of_work() as s:
        # Known as of after the labels arrived (they arrive when recorded).
        model = risk.train(s, start, clock.now() - timedelta(days=8), clock.now(), min_rows=10)
        risk.promote(s, model.id, team.checker.id)
        return model.version
