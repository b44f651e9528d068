"""Risk's event handlers: a completed transfer joins the monitor's population, once."""

from __future__ import annotations

from atrium.events import consumers
from atrium.events.bus import Envelope
from atrium.events.catalogue import TransferCompleted
from atrium.risk import service
from atrium.risk.models import RiskDecision
from atrium.risk.schemas import RiskEventIn
from atrium.risk.service import setup, state
from tests.risk.service.factories import generous_budgets


def test_transfer_completed_marks_the_decision_completed_once(db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    state.reset()
    setup.clear()
    with generous_budgets(monkeypatch), db.unit_of_work() as s:
        decision = service.screen(s, RiskEventIn(channel="transfer", subject_ref="trf_h1",
                                                 customer_id="cust_1", amount_minor=100))
    event = TransferCompleted(transfer_id="trf_h1", kind="internal", from_account_id="acct_1",
                              to_account_id="acct_2", amount_minor=100, currency="CNY", customer_id="cust_1")
    envelope = Envelope(event.id, event.type, event.aggregate_id(), event.occurred_at,
                        event.model_dump(mode="json"))
    consumer = consumers.load_handlers().get("risk.transfer_completed")
    assert consumers.deliver(db, consumer, envelope) is True
    assert consumers.deliver(db, consumer, envelope) is False  # a redelivery does nothing
    with db.session() as s:
        row = s.query(RiskDecision).filter_by(id=decision.id).one()
        assert row.completed_at == event.occurred_at
    state.reset()
