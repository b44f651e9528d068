"""The model registry: challengers trained on arrived labels, scored in shadow; promotion; cold start."""

from __future__ import annotations

from datetime import timedelta

import pytest

from atrium.kit import clock
from atrium.risk import service
from atrium.risk.errors import ModelNotPromotable, NotEnoughLabels
from tests.risk.service.factories import event

DAY = timedelta(days=1)


def _history(s, frozen) -> tuple:  # type: ignore[no-untyped-def]
    """Three weeks of a few customers' habits, with some takeovers (large, new payee, new device)."""
    start = clock.now()
    frauds = []
    for day in range(21):
        for customer in range(4):
            frozen.set(start + day * DAY + timedelta(hours=9 + customer))
            service.screen(s, event(customer_id=f"cust_{customer}", amount_minor=10_000 + 500 * customer,
                                    payee_ref=f"payee-{customer}", device_id=f"device-{customer}"))
        if day % 3 == 2:
            frozen.set(start + day * DAY + timedelta(hours=3))
            frauds.append(service.screen(s, event(customer_id=f"cust_{day % 4}", amount_minor=900_000,
                                                  payee_ref=f"mule-{day}", device_id=f"attacker-{day}")).id)
    s.commit()
    return start, frauds


def test_a_challenger_learns_only_from_labels_that_arrived(s, frozen) -> None:  # type: ignore[no-untyped-def]
    start, frauds = _history(s, frozen)
    frozen.set(start + 30 * DAY)
    with pytest.raises(NotEnoughLabels) as error:
        service.train(s, start, start + 21 * DAY)  # nothing reported yet: no fraud to learn from
    assert error.value.status == 422
    for decision_id in frauds:
        service.label(s, decision_id, True, "chargeback")
    challenger = service.train(s, start, start + 21 * DAY)
    assert (challenger.role, challenger.source, challenger.frauds) == ("challenger", "trained", len(frauds))
    assert challenger.rows == 21 * 4 + len(frauds) and "holdout_rows" in challenger.metrics
    assert "amount" in challenger.feature_names and challenger.labels_known_at == clock.now()

    shadowed = service.get_decision(s, service.screen(s, event(amount_minor=900_000, payee_ref="mule-x")).id)
    assert shadowed.model_score is None and shadowed.model_version is None  # no champion: rules and lists
    assert shadowed.challenger_score is not None and shadowed.challenger_version == challenger.version

    champion = service.promote(s, challenger.id, "staff_1")
    assert champion.role == "champion" and champion.promoted_at is not None
    with pytest.raises(ModelNotPromotable):
        service.promote(s, challenger.id)
    scored = service.screen(s, event(amount_minor=900_000, payee_ref="mule-y", device_id="attacker-y"))
    detail = service.get_decision(s, scored.id)
    assert detail.model_version == champion.version and detail.model_score is not None
    assert detail.challenger_score is None

    assert service.train(s, start, start + 21 * DAY).id == challenger.id  # same rows, same moment: same model
    frozen.set(clock.now() + DAY)
    second = service.train(s, start, start + 21 * DAY)
    service.promote(s, second.id)
    roles = {m.id: m.role for m in service.list_models(s)}
    assert roles == {challenger.id: "retired", second.id: "champion"}


def test_the_analyst_sees_the_champions_explanation(s, frozen, risk_settings) -> None:  # type: ignore[no-untyped-def]
    risk_settings(case_on_deny="true")
    start, frauds = _history(s, frozen)
    frozen.set(start + 30 * DAY)
    for decision_id in frauds:
        service.label(s, decision_id, True, "chargeback")
    service.promote(s, service.train(s, start, start + 21 * DAY).id)
    held = service.screen(s, event(amount_minor=800_000, payee_ref="mule-z", device_id="attacker-z"))
    explanation = service.get_case(s, held.case_id).explanation
    assert 0 < len(explanation) <= 5 and all(c.contribution != 0 for c in explanation)
    frozen.set(clock.now() + DAY)
    service.train(s, start, start + 21 * DAY)  # a challenger beside the champion
    both = service.screen(s, event(amount_minor=700_000, payee_ref="mule-w", device_id="attacker-w"))
    frozen.set(clock.now() + timedelta(minutes=5))
    service.label(s, both.id, True, "customer")
    comparison = service.compare_models(s, clock.now() - DAY, clock.now() + DAY)
    assert (comparison["decisions"], comparison["frauds"]) == (1, 1)
    assert comparison["champion_versions"] and comparison["challenger_versions"]


def test_a_fresh_install_gets_a_cold_start_champion_once(s) -> None:  # type: ignore[no-untyped-def]
    model = service.bootstrap_model(s, customers=40, days=14)
    assert model is not None and (model.role, model.source) == ("champion", "bootstrap")
    assert model.metrics["rows"] > 500 and model.frauds > 0
    assert service.bootstrap_model(s) is None  # idempotent: a model exists
    takeover = service.screen(s, event(amount_minor=5_000_000, payee_ref="mule-1", device_id="new-phone",
                                       ip="198.51.100.7"))
    assert service.get_decision(s, takeover.id).model_version == model.version
