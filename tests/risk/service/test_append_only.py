"""On PostgreSQL the risk histories are append-only in the database itself: UPDATE and DELETE on case
actions, the list audit and labels are refused by a trigger (`atrium.risk.ddl`), while the service's own
inserts — the next action, a list removal, a correcting label — go on working."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from atrium.risk import service
from tests.risk.service.factories import CHECKER, block, event, publish_rule

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE risk_case_actions SET note = 'nothing happened'",
        "DELETE FROM risk_case_actions",
        "UPDATE risk_list_audit SET staff_id = 'someone_else'",
        "DELETE FROM risk_list_audit",
        "UPDATE risk_labels SET fraud = NOT fraud",
        "UPDATE risk_labels SET arrived_at = arrived_at - INTERVAL '30 days'",
        "DELETE FROM risk_labels",
    ],
)
def test_risk_histories_refuse_update_and_delete(db, statement: str) -> None:  # type: ignore[no-untyped-def]
    if db.is_sqlite:
        pytest.skip("the append-only triggers are PostgreSQL's")
    with db.unit_of_work() as s:
        publish_rule(s, "amount > 100", "review")
        case_id = service.screen(s, event(amount_minor=900_000)).case_id
        assert case_id is not None
        decision_id = service.get_case(s, case_id).decision.id
        service.label(s, decision_id, True, "analyst", staff_id=CHECKER)
        entry_id = block(s, "ip", "10.9.9.9")
    with pytest.raises(DBAPIError, match="append-only"), db.unit_of_work() as s:
        s.execute(text(statement))
    # The histories only ever grow, and the service keeps adding to them.
    with db.unit_of_work() as s:
        service.note_case(s, case_id, CHECKER, "called the customer")
        service.remove_entry(s, entry_id, CHECKER, "entered by mistake")
        service.label(s, decision_id, False, "analyst", staff_id=CHECKER)
    with db.read_session() as s:
        counts = [
            s.execute(text(f"SELECT count(*) FROM {t}")).scalar()
            for t in ("risk_case_actions", "risk_list_audit", "risk_labels")
        ]
        assert counts[1:] == [2, 2] and counts[0] >= 2
        assert [label.fraud for label in service.labels_of(s, decision_id)] == [True, False]
