"""The post-event monitor: completed activity re-scored with today's lists, rules and model; one alert per
decision, and nothing before the money actually moved."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from atrium.events.models import OutboxEvent
from atrium.kit import clock
from atrium.risk import service
from tests.risk.service.factories import block, event, publish_rule


def _alerts(s) -> list[dict]:  # type: ignore[no-untyped-def]
    return [r.payload for r in s.scalars(select(OutboxEvent).where(OutboxEvent.type == "RiskAlertRaised"))]


def test_a_card_blocked_later_raises_one_alert_for_its_earlier_payments(s, frozen) -> None:  # type: ignore[no-untyped-def]
    paid = service.screen(s, event(channel="card", card_ref="card_5", terminal_id="term_1", payee_ref=None))
    assert paid.outcome == "allow"
    assert service.monitor(s).alerted == 0
    frozen.set(clock.now() + timedelta(hours=5))
    block(s, "card", "card_5", reason="card reported stolen")
    report = service.monitor(s)
    assert (report.checked, report.alerted) == (1, 1)
    case = service.get_case(s, report.case_ids[0])
    assert (case.case.origin, case.case.held, case.decision.id) == ("monitor", False, paid.id)
    (alert,) = _alerts(s)
    assert (alert["source"], alert["reason_codes"], alert["customer_id"]) == (
        "monitor", ["list.block.card"], "cust_1")
    service.remove_entry(s, service.list_entries(s)[0].id, "staff_1")  # another revision: re-checked…
    block(s, "card", "card_5")
    assert service.monitor(s).alerted == 0  # …but alerted once only
    assert len(_alerts(s)) == 1


def test_a_transfer_is_monitored_once_it_completed(s) -> None:  # type: ignore[no-untyped-def]
    transfer = service.screen(s, event(subject_ref="trf_done"))
    block(s, "payee", "6222000012345678")
    assert service.monitor(s).checked == 0  # not completed: no money moved yet
    assert service.mark_completed(s, "trf_done") == 1
    assert service.monitor(s).alerted == 1
    assert _alerts(s)[0]["decision_id"] == transfer.id


def test_a_new_rule_finds_what_it_would_have_held(s) -> None:  # type: ignore[no-untyped-def]
    service.screen(s, event(channel="card", card_ref="card_8", amount_minor=80_000, payee_ref=None))
    service.screen(s, event(channel="card", card_ref="card_9", amount_minor=1_000, payee_ref=None))
    assert service.monitor(s).checked == 0  # decided under today's lists, rules and model: nothing new
    publish_rule(s, "amount > 500", "review")
    assert (service.monitor(s).checked, len(_alerts(s))) == (2, 1)
    assert service.monitor(s).checked == 0  # checked under this revision: not again


def test_an_allow_by_the_fail_policy_is_looked_at_under_the_same_revision(s) -> None:  # type: ignore[no-untyped-def]
    block(s, "card", "card_4", reason="card reported stolen")
    with service.engine_override(_Broken()):
        missed = service.screen(s, event(channel="card", card_ref="card_4", payee_ref=None))
    assert (missed.outcome, missed.fallback) == ("allow", True)  # cards fail open: the block list unread
    report = service.monitor(s)
    assert (report.checked, report.alerted) == (1, 1)
    assert (_alerts(s)[0]["decision_id"], _alerts(s)[0]["reason_codes"]) == (missed.id, ["list.block.card"])


class _Broken:
    def decide(self, event, now=None):  # type: ignore[no-untyped-def]
        raise RuntimeError("engine down")


def test_old_activity_is_left_alone(s, frozen) -> None:  # type: ignore[no-untyped-def]
    service.screen(s, event(channel="card", card_ref="card_3", payee_ref=None))
    frozen.set(clock.now() + timedelta(days=4))  # beyond the 72-hour window
    block(s, "card", "card_3")
    assert service.monitor(s).checked == 0
