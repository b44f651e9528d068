"""Model promotion, maker-checker per person: one person asks (with a reason), another approves or rejects;
the requester can do neither, and the request keeps who asked and who decided. Also the holdout's Card
Precision@100, which training stores beside AUC and AP."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from atrium.kit import clock
from atrium.risk import service
from atrium.risk.benchmark.metrics import card_precision_top_k
from atrium.risk.errors import (
    ModelNotPromotable,
    PromotionNotPending,
    PromotionPending,
    PromotionReasonMissing,
    PromotionSelfApproval,
)
from atrium.risk.models import RiskModelPromotion
from atrium.risk.schemas import ModelRead
from tests.risk.service.factories import event

DAY = timedelta(days=1)
ANALYST, OFFICER, OTHER_OFFICER = "stf_analyst", "stf_officer", "stf_officer_2"


def challenger(s, frozen) -> ModelRead:  # type: ignore[no-untyped-def]
    """Three weeks of four customers' habits with a takeover every third night, labelled; a challenger."""
    start = clock.now()
    for day in range(21):
        for customer in range(4):
            frozen.set(start + day * DAY + timedelta(hours=9 + customer))
            service.screen(
                s,
                event(
                    customer_id=f"cust_{customer}",
                    amount_minor=10_000 + 500 * customer,
                    payee_ref=f"payee-{customer}",
                    device_id=f"device-{customer}",
                ),
            )
        if day % 3 == 2:
            frozen.set(start + day * DAY + timedelta(hours=3))
            fraud = service.screen(
                s,
                event(
                    customer_id=f"cust_{day % 4}",
                    amount_minor=900_000,
                    payee_ref=f"mule-{day}",
                    device_id=f"attacker-{day}",
                ),
            )
            service.label(s, fraud.id, True, "chargeback")
    frozen.set(start + 30 * DAY)
    return service.train(s, start, start + 21 * DAY)


def test_a_promotion_needs_a_second_person_and_keeps_who_asked_and_who_approved(s, frozen) -> None:  # type: ignore[no-untyped-def]
    model = challenger(s, frozen)
    with pytest.raises(PromotionReasonMissing):
        service.request_promotion(s, model.id, ANALYST, "   ")
    asked = service.request_promotion(s, model.id, ANALYST, "better AP on  the last 30 days")
    assert (asked.status, asked.requested_by, asked.reason) == (
        "pending",
        ANALYST,
        "better AP on the last 30 days",
    )
    with pytest.raises(PromotionPending):
        service.request_promotion(s, model.id, OFFICER, "me too")
    with pytest.raises(PromotionSelfApproval) as refused:
        service.approve_promotion(s, asked.id, ANALYST)
    assert refused.value.status == 403
    assert service.get_model(s, model.id).role == "challenger"  # asking alone changes nothing

    approved = service.approve_promotion(s, asked.id, OFFICER, "compared over 30 days")
    assert (approved.status, approved.requested_by, approved.decided_by) == ("approved", ANALYST, OFFICER)
    assert approved.decided_at is not None and approved.decision_note == "compared over 30 days"
    assert service.get_model(s, model.id).role == "champion"
    with pytest.raises(PromotionNotPending):
        service.approve_promotion(s, asked.id, OTHER_OFFICER)
    with pytest.raises(ModelNotPromotable):
        service.request_promotion(s, model.id, ANALYST, "again")  # already the champion
    assert [p.id for p in service.list_promotions(s)] == [asked.id]


def test_a_rejected_request_leaves_the_challenger_and_a_new_request_can_follow(s, frozen) -> None:  # type: ignore[no-untyped-def]
    model = challenger(s, frozen)
    first = service.request_promotion(s, model.id, OFFICER, "looks better")
    with pytest.raises(PromotionSelfApproval):
        service.reject_promotion(s, first.id, OFFICER, "changed my mind")
    with pytest.raises(PromotionReasonMissing):
        service.reject_promotion(s, first.id, OTHER_OFFICER, "")
    rejected = service.reject_promotion(s, first.id, OTHER_OFFICER, "too few frauds in the holdout")
    assert (rejected.status, rejected.decided_by) == ("rejected", OTHER_OFFICER)
    assert service.get_model(s, model.id).role == "challenger"
    second = service.request_promotion(s, model.id, ANALYST, "a month of shadow scores")
    assert [p.status for p in service.list_promotions(s)] == ["pending", "rejected"]
    assert service.list_promotions(s, status="pending")[0].id == second.id


def test_a_challenger_retired_by_a_newer_one_takes_its_request_with_it(s, frozen) -> None:  # type: ignore[no-untyped-def]
    first = challenger(s, frozen)
    asked = service.request_promotion(s, first.id, ANALYST, "better AUC")
    frozen.set(clock.now() + DAY)
    newer = service.train(s, clock.now() - 31 * DAY, clock.now() - 10 * DAY)
    assert newer.id != first.id and service.get_model(s, first.id).role == "retired"
    withdrawn = service.get_promotion(s, asked.id)
    assert withdrawn.status == "withdrawn" and withdrawn.decided_by is None
    with pytest.raises(PromotionNotPending):
        service.approve_promotion(s, asked.id, OFFICER)


def test_the_database_refuses_a_request_decided_by_its_requester(s, frozen) -> None:  # type: ignore[no-untyped-def]
    asked = service.request_promotion(s, challenger(s, frozen).id, ANALYST, "better AP")
    with pytest.raises(IntegrityError):
        s.execute(
            update(RiskModelPromotion)
            .where(RiskModelPromotion.id == asked.id)
            .values(status="approved", decided_by=ANALYST)
        )


def test_training_stores_the_holdouts_card_precision_at_100(s, frozen) -> None:  # type: ignore[no-untyped-def]
    model = challenger(s, frozen)
    cp = model.metrics["holdout_cp100"]
    # At most four customers a day, so at most 4 of 100 in any day's top 100 are frauds.
    assert isinstance(cp, float) and 0 < cp <= 0.04
    # The handbook's definition over the holdout's days and customers, independently recomputed here.
    ts = service.training_rows(s, clock.now() - 30 * DAY, clock.now() - 9 * DAY, labels_known_at=clock.now())
    cut = int(len(ts) * 0.8)
    decisions = [service.get_decision(s, i) for i in ts.decision_ids[cut:]]
    days = np.asarray([int((d.occurred_at.timestamp() + 8 * 3600) // 86_400) for d in decisions])
    customers = np.asarray([int(d.customer_id.removeprefix("cust_")) for d in decisions])  # type: ignore[union-attr]
    frauds = ts.y[cut:]
    # Four references a day all make the top 100, so the ranking does not matter: every fraudulent customer
    # not caught on an earlier day counts 1/100 on its day.
    expected, _ = card_precision_top_k(days, customers, frauds, frauds.astype(float))
    assert cp == round(expected, 4)
