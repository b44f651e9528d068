"""After a decision: the transfer it belongs to, the customer's answer to a challenge, completion."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from atrium.events.models import OutboxEvent
from atrium.kit.errors import Conflict, ValidationFailed
from atrium.risk import service
from atrium.risk.errors import DecisionNotFound
from tests.risk.service.factories import event, publish_rule


def _types(s) -> list[str]:  # type: ignore[no-untyped-def]
    return list(s.scalars(select(OutboxEvent.type).order_by(OutboxEvent.seq)))


@pytest.fixture()
def challenged(s):  # type: ignore[no-untyped-def]
    publish_rule(s, "amount > 100", "challenge")
    decision = service.screen(s, event(subject_ref="idem_42", amount_minor=50_000))
    assert decision.outcome == "challenge"
    return decision


def test_a_passed_challenge_is_recorded_once_and_alarms_nobody(s, challenged) -> None:  # type: ignore[no-untyped-def]
    service.report_challenge(s, challenged.id, "passed")
    service.report_challenge(s, challenged.id, "passed")  # a retried callback
    with pytest.raises(Conflict):
        service.report_challenge(s, challenged.id, "disowned")
    assert "RiskAlertRaised" not in _types(s)


def test_a_disowned_challenge_is_fraud_and_the_customer_is_alerted(s, challenged) -> None:  # type: ignore[no-untyped-def]
    service.report_challenge(s, challenged.id, "disowned")
    assert [(lab.fraud, lab.source) for lab in service.labels_of(s, challenged.id)] == [(True, "customer")]
    assert {"FraudConfirmed", "RiskAlertRaised"} <= set(_types(s))


def test_a_failed_challenge_alerts_without_labelling(s, challenged) -> None:  # type: ignore[no-untyped-def]
    service.report_challenge(s, challenged.id, "failed")
    assert service.labels_of(s, challenged.id) == [] and "RiskAlertRaised" in _types(s)
    with pytest.raises(ValidationFailed):
        service.report_challenge(s, challenged.id, "maybe")  # type: ignore[arg-type]


def test_a_decision_is_linked_to_its_transfer_and_completes_with_it(s, challenged) -> None:  # type: ignore[no-untyped-def]
    service.attach_transfer(s, challenged.id, "trf_77")
    service.attach_transfer(s, challenged.id, "trf_77")
    with pytest.raises(Conflict):
        service.attach_transfer(s, challenged.id, "trf_78")
    assert service.mark_completed(s, "trf_77") == 1
    assert service.mark_completed(s, "trf_77") == 0
    assert service.decision_for_subject(s, "transfer", "idem_42").id == challenged.id
    assert service.decision_for_subject(s, "transfer", "nope") is None
    assert [d.id for d in service.customer_decisions(s, "cust_1")] == [challenged.id]
    with pytest.raises(DecisionNotFound):
        service.get_decision(s, "rskd_nope")
