"""Maker-checker: one operator proposes, another approves or rejects; both are in the history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from atrium.catalog import service as catalog
from atrium.catalog.errors import (
    InvalidDefinition,
    InvalidRule,
    ProposalClosed,
    SelfApproval,
    ServiceExists,
    ServiceNotFound,
    StaleProposal,
)
from atrium.catalog.schemas import ProposalCreate
from atrium.kit.errors import Forbidden, ValidationFailed
from tests.catalog.factories import definition, make_customer, publish, staff, viewer


@pytest.fixture()
def s(db) -> Iterator:  # type: ignore[no-untyped-def, type-arg]
    with db.session() as session:
        yield session
        session.rollback()


@pytest.fixture()
def maker(s) -> str:  # type: ignore[no-untyped-def]
    return staff(s, "maker")


@pytest.fixture()
def checker(s) -> str:  # type: ignore[no-untyped-def]
    return staff(s, "checker")


def create(key: str = "wealth.pension", note: str = "", **fields: object) -> ProposalCreate:
    return ProposalCreate(kind="create", service_key=key, definition=definition(key, **fields), note=note)


def update(version: int, **fields: object) -> ProposalCreate:
    return ProposalCreate(kind="update", service_key="wealth.pension", base_version=version,
                          definition=definition(**fields))


def test_a_new_service_goes_live_only_when_a_second_operator_approves(s, maker, checker) -> None:  # type: ignore[no-untyped-def]
    who = viewer(s, make_customer(s))
    proposal = catalog.propose(s, maker, create(note="pension campaign"))
    assert proposal.status == "pending" and proposal.proposed_by == maker
    assert "wealth.pension" not in {x.key for x in catalog.visible_services(s, who)}
    entry = catalog.approve(s, checker, proposal.id)
    assert (entry.version, entry.change) == (1, "create")
    assert (entry.proposed_by, entry.approved_by) == (maker, checker)
    assert entry.proposal_id == proposal.id and entry.note == "pension campaign" and entry.source == "console"
    assert "wealth.pension" in {x.key for x in catalog.visible_services(s, who)}
    decided = catalog.get_proposal(s, proposal.id)
    assert decided.status == "approved" and decided.decided_by == checker and decided.decided_at is not None


def test_the_maker_cannot_approve_their_own_proposal(s, maker) -> None:  # type: ignore[no-untyped-def]
    proposal = catalog.propose(s, maker, create())
    with pytest.raises(SelfApproval) as caught:
        catalog.approve(s, maker, proposal.id)
    assert caught.value.status == 403
    with pytest.raises(SelfApproval):
        catalog.reject(s, maker, proposal.id, "changed my mind")
    assert catalog.get_proposal(s, proposal.id).status == "pending"
    with pytest.raises(ServiceNotFound):
        catalog.get_managed(s, "wealth.pension")


def test_a_stale_proposal_is_refused_after_another_change(s, maker, checker) -> None:  # type: ignore[no-untyped-def]
    publish(s, maker, checker, definition())
    first = catalog.propose(s, maker, update(1, rank=1))
    second = catalog.propose(s, checker, update(1, rank=99))
    catalog.approve(s, checker, first.id)
    assert catalog.get_proposal(s, second.id).status == "superseded"
    with pytest.raises(StaleProposal) as caught:
        catalog.approve(s, maker, second.id)
    assert caught.value.status == 409
    service = catalog.get_managed(s, "wealth.pension")
    assert service.version == 2 and service.definition.rank == 1
    with pytest.raises(StaleProposal):  # a proposal written against an old version is refused at once
        catalog.propose(s, maker, update(1, rank=5))


def test_a_rejection_keeps_the_service_and_records_who_and_why(s, maker, checker) -> None:  # type: ignore[no-untyped-def]
    publish(s, maker, checker, definition())
    proposal = catalog.propose(s, maker, update(1, target="/security"))
    with pytest.raises(ValidationFailed):
        catalog.reject(s, checker, proposal.id, " ")
    rejected = catalog.reject(s, checker, proposal.id, "the page is for the security line")
    assert (rejected.status, rejected.decided_by, rejected.reason) == (
        "rejected", checker, "the page is for the security line")
    service = catalog.get_managed(s, "wealth.pension")
    assert service.version == 1 and service.definition.target == "/limits"
    assert [h.version for h in catalog.history(s, "wealth.pension")] == [1]
    with pytest.raises(ProposalClosed):
        catalog.approve(s, checker, proposal.id)


def test_switch_and_schedule_are_proposals_too(s, maker, checker) -> None:  # type: ignore[no-untyped-def]
    publish(s, maker, checker, definition())
    who = viewer(s, make_customer(s))
    off = catalog.propose(s, maker, ProposalCreate(kind="switch", service_key="wealth.pension",
                                                   base_version=1, enabled=False))
    catalog.approve(s, checker, off.id)
    assert "wealth.pension" not in {x.key for x in catalog.visible_services(s, who)}
    start = datetime(2031, 1, 1, tzinfo=UTC)
    later = ProposalCreate(kind="schedule", service_key="wealth.pension", base_version=2,
                           window={"starts_at": start, "ends_at": start + timedelta(days=1)})
    catalog.approve(s, maker, catalog.propose(s, checker, later).id)
    service = catalog.get_managed(s, "wealth.pension")
    assert service.version == 3 and service.window.starts_at == start and not service.enabled
    changes = [(h.version, h.change, h.proposed_by, h.approved_by)
               for h in catalog.history(s, "wealth.pension")]
    assert changes == [(3, "schedule", checker, maker), (2, "switch", maker, checker),
                       (1, "create", maker, checker)]
    with pytest.raises(InvalidDefinition, match="start before"):
        same = {"starts_at": start, "ends_at": start}
        catalog.propose(s, maker, ProposalCreate(kind="schedule", service_key="wealth.pension",
                                                 base_version=3, window=same))


def test_the_maker_may_withdraw_and_nobody_else(s, maker, checker) -> None:  # type: ignore[no-untyped-def]
    proposal = catalog.propose(s, maker, create())
    with pytest.raises(Forbidden):
        catalog.withdraw(s, checker, proposal.id)
    assert catalog.withdraw(s, maker, proposal.id).status == "withdrawn"
    with pytest.raises(ProposalClosed):
        catalog.approve(s, checker, proposal.id)


def test_proposals_are_validated_when_made(s, maker, checker) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidDefinition) as caught:
        catalog.propose(s, maker, create(target="javascript:alert(1)"))
    assert caught.value.extra["field"] == "target"
    with pytest.raises(InvalidRule) as rule:
        catalog.propose(s, maker, create(audience={"attr": "age", "op": "older", "value": 60}))
    assert rule.value.extra["path"] == "audience.op"
    with pytest.raises(ValidationFailed, match="key"):
        catalog.propose(s, maker, ProposalCreate(kind="create", service_key="wealth.other",
                                                 definition=definition("wealth.pension")))
    catalog.propose(s, maker, create())
    with pytest.raises(ServiceExists):
        catalog.propose(s, checker, create())  # already proposed
    with pytest.raises(ServiceNotFound):
        catalog.propose(s, maker, ProposalCreate(kind="switch", service_key="wealth.none", base_version=1,
                                                 enabled=False))
    with pytest.raises(Forbidden):
        catalog.propose(s, "stf_nobody", create("wealth.other"))


def test_a_service_cannot_move_to_another_line_or_be_created_twice(s, maker, checker) -> None:  # type: ignore[no-untyped-def]
    publish(s, maker, checker, definition())
    with pytest.raises(ServiceExists):
        catalog.propose(s, maker, create())
    moved = definition().model_copy(update={"line": "loans"})
    with pytest.raises(InvalidDefinition):
        catalog.propose(s, maker, ProposalCreate(kind="update", service_key="wealth.pension", base_version=1,
                                                 definition=moved))
