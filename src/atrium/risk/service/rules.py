"""Expert rules as data, under maker-checker.

- `propose_rule` compiles the expression first (a `RuleSyntaxError` — 422 with the message and position —
  if it is not a valid rule) and stores a new version of the key, `proposed`. A proposal does nothing.
- `approve_rule` by a second person (the author gets `SelfApproval`, 403) publishes it: only `published`
  versions are loaded by the engine, and publishing retires the key's previous published version in the
  same transaction, so the old version acts until the new one is approved and never alongside it.
- A change is always a new version: `set_rule_mode` (shadow ↔ live) proposes a copy in the new mode,
  needing approval like any change. `reject_rule` closes a proposal with a reason.
- `retire_rule` stops a published rule at once, by one person (stopping a misfiring rule must not wait
  for a second pair of eyes; the retirement is recorded with who and why).
- A newer proposal of the same key supersedes an older pending one (it is rejected with a note), so a
  checker never approves a stale text.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from atrium.kit import clock
from atrium.kit.ids import new_id
from atrium.logs import get_logger
from atrium.risk import repository
from atrium.risk.domain.rules import Rule, compile_rule, default_vocabulary
from atrium.risk.errors import RuleConflict, RuleNotFound, RuleNotPending, SelfApproval
from atrium.risk.models import RiskRule
from atrium.risk.schemas import RuleCreate, RuleRead
from atrium.risk.service import setup, views

log = get_logger("atrium.risk.rules")


def rule_vocabulary() -> dict[str, str]:
    """The names a rule may read (features and event fields) and their types, for the console's help."""
    return dict(sorted(default_vocabulary().items()))


def _check(proposal: RuleCreate, version: int) -> None:
    compile_rule(proposal.expression, default_vocabulary())  # RuleSyntaxError(message, position)
    Rule(key=proposal.key, version=version, expression=proposal.expression, action=proposal.action,
         weight=proposal.weight, reason=proposal.reason, mode=proposal.mode)  # RuleDefinitionError


def propose_rule(session: Session, author: str, proposal: RuleCreate) -> RuleRead:
    """A new version of `proposal.key`, waiting for a second person's approval."""
    version = repository.max_rule_version(session, proposal.key) + 1
    _check(proposal, version)
    now = clock.now()
    for pending in repository.rules(session, status="proposed", key=proposal.key):
        pending.status = "rejected"
        pending.decision_note = f"superseded by version {version}"
        pending.decided_at = now
    row = RiskRule(id=new_id("rrul"), key=proposal.key, version=version, expression=proposal.expression,
                   action=proposal.action, weight=proposal.weight, reason=proposal.reason, mode=proposal.mode,
                   status="proposed", note=proposal.note, author=author, created_at=now)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise RuleConflict(f"another version {version} of {proposal.key} was proposed meanwhile") from None
    log.info("risk_rule_proposed", rule=row.key, version=version, author=author)
    return views.rule_read(row)


def approve_rule(session: Session, rule_id: str, approver: str, note: str = "") -> RuleRead:
    row = _pending(session, rule_id)
    if approver == row.author:
        raise SelfApproval("the author of a rule cannot approve it")
    _check(RuleCreate(key=row.key, expression=row.expression, action=row.action, weight=row.weight,  # type: ignore[arg-type]
                      reason=row.reason, mode=row.mode), row.version)  # type: ignore[arg-type]
    setup.changed(session)  # first: the revision row's lock serialises concurrent approvals of one key
    now = clock.now()
    for live in repository.rules(session, status="published", key=row.key):
        live.status = "retired"
        live.decision_note = f"replaced by version {row.version}"
        live.decided_at = now
    row.status = "published"
    row.approver = approver
    row.decided_at = now
    if note:
        row.decision_note = note
    session.flush()
    log.info("risk_rule_published", rule=row.key, version=row.version, author=row.author, approver=approver)
    return views.rule_read(row)


def reject_rule(session: Session, rule_id: str, staff_id: str, reason: str) -> RuleRead:
    row = _pending(session, rule_id)
    row.status = "rejected"
    row.approver = staff_id
    row.decision_note = reason
    row.decided_at = clock.now()
    session.flush()
    log.info("risk_rule_rejected", rule=row.key, version=row.version, staff_id=staff_id)
    return views.rule_read(row)


def set_rule_mode(session: Session, key: str, mode: str, staff_id: str, note: str = "") -> RuleRead:
    """Propose the key's current version (published, else the latest) in `mode` (live | shadow)."""
    base = _current(session, key)
    return propose_rule(session, staff_id, RuleCreate(
        key=key, expression=base.expression, action=base.action, weight=base.weight,  # type: ignore[arg-type]
        reason=base.reason, mode=mode, note=note or f"mode {base.mode} → {mode}"))  # type: ignore[arg-type]


def retire_rule(session: Session, key: str, staff_id: str, reason: str) -> RuleRead:
    published = repository.rules(session, status="published", key=key)
    if not published:
        raise RuleNotFound(f"rule {key} has no published version")
    row = published[0]
    row.status = "retired"
    row.decision_note = reason
    row.decided_at = clock.now()
    session.flush()
    setup.changed(session)
    log.info("risk_rule_retired", rule=key, version=row.version, staff_id=staff_id)
    return views.rule_read(row)


def get_rule(session: Session, rule_id: str) -> RuleRead:
    row = repository.get_rule(session, rule_id)
    if row is None:
        raise RuleNotFound(f"no rule {rule_id}")
    return views.rule_read(row)


def list_rules(session: Session, *, status: str | None = None, key: str | None = None) -> list[RuleRead]:
    return [views.rule_read(row) for row in repository.rules(session, status=status, key=key)]


def rule_versions(session: Session, key: str) -> list[RuleRead]:
    """Every version of a rule, newest first (its history)."""
    return [views.rule_read(row) for row in repository.rule_versions(session, key)]


def _pending(session: Session, rule_id: str) -> RiskRule:
    row = repository.get_rule(session, rule_id, lock=True)
    if row is None:
        raise RuleNotFound(f"no rule {rule_id}")
    if row.status != "proposed":
        raise RuleNotPending(f"rule {row.key} v{row.version} is {row.status}")
    return row


def _current(session: Session, key: str) -> RiskRule:
    versions = repository.rule_versions(session, key)
    if not versions:
        raise RuleNotFound(f"no rule {key}")
    return next((r for r in versions if r.status == "published"), versions[0])
