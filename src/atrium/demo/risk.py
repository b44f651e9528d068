"""The demo bank's anti-fraud set-up: a cold-start model and the expert rules a fraud team starts with.

The rules go through the same maker-checker as the console: the risk analyst proposes, the compliance
officer approves. Two act (live), one runs in shadow so the console shows what shadow mode records. The
model is the cold-start champion `risk.service.bootstrap_model` trains from synthetic history; `risk.retrain`
trains challengers on the bank's own labels as they arrive, and a person promotes one.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from atrium.identity import service as identity
from atrium.risk import service as risk
from atrium.risk.schemas import RuleCreate

MAKER = "analyst"  # risk_analyst
CHECKER = "compliance"  # compliance_officer


@dataclass(frozen=True)
class DemoRule:
    key: str
    expression: str
    action: str
    reason: str
    mode: str
    weight: float = 0.0
    note: str = ""


RULES: tuple[DemoRule, ...] = (
    DemoRule(
        key="large_first_payment",
        expression="payee_new_for_customer and amount >= 20000",
        action="challenge", reason="behaviour.new_payee", mode="live",
        note="A first payment of 20,000 or more to a payee: confirm it is the customer (authorised push "
             "payment scams start with a new payee).",
    ),
    DemoRule(
        key="burst_of_payments",
        expression="customer_count_1h >= 6 and customer_amount_sum_1h >= 30000",
        action="review", reason="behaviour.velocity", mode="live", weight=0.2,
        note="Six or more payments within the hour adding up to 30,000: hold for an analyst.",
    ),
    DemoRule(
        key="night_new_device",
        expression="is_night and device_new_for_customer and amount >= 5000",
        action="review", reason="behaviour.account_takeover", mode="shadow",
        note="Night-time payment from a device the customer never used: measured in shadow first.",
    ),
)


def seed(session: Session) -> dict[str, int]:
    """Publish the demo rules and train the cold-start model. Idempotent: rules already published (any
    version) and an existing model are left alone."""
    maker = identity.find_staff_by_username(session, MAKER)
    checker = identity.find_staff_by_username(session, CHECKER)
    published = 0
    if maker is not None and checker is not None:
        for rule in RULES:
            if risk.list_rules(session, key=rule.key):
                continue
            proposal = risk.propose_rule(session, maker.id, RuleCreate(
                key=rule.key, expression=rule.expression, action=rule.action,  # type: ignore[arg-type]
                weight=rule.weight, reason=rule.reason, mode=rule.mode, note=rule.note,  # type: ignore[arg-type]
            ))
            risk.approve_rule(session, proposal.id, checker.id, note="demo: reviewed at set-up")
            published += 1
    model = risk.bootstrap_model(session)
    return {"rules": published, "models": 0 if model is None else 1}
