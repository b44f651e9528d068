"""Anti-fraud use cases (`atrium.risk.service`): the one door payments, the decision API and the staff
console use. Every function takes the session first, flushes and never commits.

Screening — `screen(session, RiskEventIn) -> DecisionRead` (idempotent per (channel, subject_ref); the
channel's fail policy on timeout), `get_decision`, `decision_for_subject`, `customer_decisions`,
`attach_transfer` (link a decision to the transfer made for it), `report_challenge` (passed | failed |
disowned), `mark_completed` (the monitor's population; called by handlers on TransferCompleted).

Labels — `label(session, decision_id, fraud, source, staff_id=None)`, `labels_of`,
`training_rows(session, start, end, labels_known_at) -> TrainingSet`.

Cases — `list_cases` (status, outcome, channel; oldest first), `get_case -> CaseDetail`, `assign_case`,
`note_case`, `release_case`, `confirm_fraud`, `close_case`, `block_from_case`, `count_open`.

Rules — `propose_rule(session, author, RuleCreate)`, `approve_rule(session, rule_id, approver)`,
`reject_rule`, `set_rule_mode(session, key, mode, staff_id)`, `retire_rule(session, key, staff_id, reason)`,
`get_rule`, `list_rules`, `rule_versions`, `rule_vocabulary`,
`backtest(session, expression, since, until, *, action, weight, as_of) -> BacktestRead`.

Lists — `add_entry(session, ListEntryCreate, staff_id)`, `add_entry_for_decision`,
`remove_entry(session, entry_id, staff_id, reason)`, `get_entry`, `list_entries`, `list_audit`.

Models — `train(session, start, end, now)`, `promote(session, model_id, staff_id=None)`, `get_model`,
`list_models`, `compare_models`, `bootstrap_model(session)`; promotion under maker-checker:
`request_promotion(session, model_id, staff_id, reason)`, `approve_promotion(session, promotion_id,
staff_id)`, `reject_promotion(session, promotion_id, staff_id, note)`, `list_promotions`, `get_promotion`.

Monitoring — `monitor(session, now=None) -> MonitorReport` (the risk.monitor job runs it).

Deviations from the design note, kept close: `promote` and every other function take the session first;
`set_rule_mode` proposes a new version (a mode change needs approval like any change); `close_case`
refuses a case that still holds money (`CaseHeld`: release it or confirm fraud); `RiskEventIn` names raw
values `card_ref`, `account_id`, `device_id`, `payee_ref`, `terminal_id`, `ip`.
"""

from __future__ import annotations

from atrium.risk.service.backtest import backtest
from atrium.risk.service.cases import (
    assign_case,
    block_from_case,
    close_case,
    confirm_fraud,
    count_open,
    get_case,
    list_cases,
    note_case,
    release_case,
)
from atrium.risk.service.decisions import (
    attach_transfer,
    customer_decisions,
    decision_for_subject,
    get_decision,
    mark_completed,
    report_challenge,
)
from atrium.risk.service.labels import label, labels_of, training_rows
from atrium.risk.service.lists import (
    add_entry,
    add_entry_for_decision,
    get_entry,
    list_audit,
    list_entries,
    remove_entry,
)
from atrium.risk.service.monitor import MonitorReport, monitor
from atrium.risk.service.registry import (
    approve_promotion,
    bootstrap_model,
    compare_models,
    get_model,
    get_promotion,
    list_models,
    list_promotions,
    promote,
    reject_promotion,
    request_promotion,
    train,
)
from atrium.risk.service.rules import (
    approve_rule,
    get_rule,
    list_rules,
    propose_rule,
    reject_rule,
    retire_rule,
    rule_versions,
    rule_vocabulary,
    set_rule_mode,
)
from atrium.risk.service.screening import engine_override, screen
from atrium.risk.service.setup import policies as channel_policies

__all__ = [
    "MonitorReport", "add_entry", "add_entry_for_decision", "approve_rule", "assign_case", "attach_transfer",
    "backtest", "block_from_case", "bootstrap_model", "channel_policies", "close_case", "compare_models",
    "confirm_fraud", "count_open", "customer_decisions", "decision_for_subject", "engine_override",
    "get_case", "get_decision", "get_entry", "get_model", "get_rule", "label", "labels_of", "list_audit",
    "list_cases", "list_entries", "list_models", "list_rules", "mark_completed", "monitor", "note_case",
    "promote", "propose_rule", "reject_rule", "release_case", "remove_entry", "report_challenge",
    "retire_rule", "rule_versions", "rule_vocabulary", "screen", "set_rule_mode", "train", "training_rows",
    "approve_promotion", "get_promotion", "list_promotions", "reject_promotion", "request_promotion",
]
