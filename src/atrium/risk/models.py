"""The risk domain's tables.

Invariants:
- `risk_decisions` is the feature log and the source of truth of the feature state: one row per
  (channel, subject_ref), written once with the event's facts, entity keys and what the engine saw and
  said. Only what happens afterwards changes later (the transfer it belongs to, the challenge's answer,
  completion, monitoring). `seq` is a database-assigned, increasing position that other processes tail
  (see service/state.py).
- Entity keys of IPs, devices and payees are keyed hashes; `displays` holds masks for people to read.
- `risk_labels` is append-only; a label counts from its `arrived_at` (features and training sets never see
  it earlier). The latest arrived label of a decision is its truth.
- `risk_case_actions` and `risk_list_audit` are append-only histories with the acting staff id.
- A rule version acts only in status `published`, which only a second person's approval sets; at most one
  version of a key is published.
- At most one model is `champion` and at most one `challenger`; the champion acts, the challenger is
  scored and recorded only.
- A model becomes champion only through a `risk_model_promotions` request that a second person approved:
  at most one pending request per model, and the database refuses a request decided by its requester.
- `risk_revision` has one row whose `stamp` changes (a fresh random id) with every rule, list or model
  change, so every process reloads its engine configuration (random, not a counter: a rolled-back change
  can never leave a cached configuration that a later, different change would reuse).
- `risk_monitor_cursor` (one row) is how far the post-event monitor got under one revision stamp, and
  `risk_monitor_pending` the log positions it passed that may still become its candidates (a payment not
  yet completed, a position whose transaction had not committed); see service/monitor.py. Whoever holds
  the cursor row's lock is the one monitor at work.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from atrium.db.base import Base, MinorUnits
from atrium.kit import clock

_SEQ = BigInteger().with_variant(Integer(), "sqlite")  # SQLite assigns rowids only to INTEGER primary keys
ENTITY_COLUMNS = ("customer_id", "card", "account", "device", "payee", "terminal", "ip")


class RiskDecision(Base):
    """One decided event: the facts, the entity keys, and the engine's verdict with its evidence."""

    __tablename__ = "risk_decisions"

    seq: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    subject_ref: Mapped[str] = mapped_column(String(80))
    fingerprint: Mapped[str] = mapped_column(String(64))  # the request's facts, to refuse a changed retry
    occurred_at: Mapped[datetime]
    amount_minor: Mapped[int] = mapped_column(MinorUnits, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    customer_id: Mapped[str | None] = mapped_column(String(64), default=None)
    card: Mapped[str | None] = mapped_column(String(64), default=None)
    account: Mapped[str | None] = mapped_column(String(64), default=None)
    device: Mapped[str | None] = mapped_column(String(64), default=None)
    payee: Mapped[str | None] = mapped_column(String(64), default=None)
    terminal: Mapped[str | None] = mapped_column(String(64), default=None)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    lat: Mapped[float | None] = mapped_column(Float, default=None)
    lon: Mapped[float | None] = mapped_column(Float, default=None)
    displays: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # masks of hashed entities

    outcome: Mapped[str] = mapped_column(String(12))
    score: Mapped[float] = mapped_column(Float, default=0.0)
    model_score: Mapped[float | None] = mapped_column(Float, default=None)
    model_version: Mapped[str | None] = mapped_column(String(40), default=None)
    challenger_score: Mapped[float | None] = mapped_column(Float, default=None)
    challenger_version: Mapped[str | None] = mapped_column(String(40), default=None)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # What the engine saw: `feature_values` packed over the vocabulary `feature_set` names (see
    # repository/vectors.py); rows logged before revision 0008 keep a JSON object in `features` instead.
    # Neither: the engine failed.
    features: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    feature_set: Mapped[str | None] = mapped_column(String(16), default=None)
    feature_values: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    rule_hits: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    shadow_hits: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    list_hits: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    rule_errors: Mapped[list[str]] = mapped_column(JSON, default=list)
    fallback: Mapped[bool] = mapped_column(default=False)  # the engine timed out or failed
    latency_us: Mapped[int] = mapped_column(default=0)
    revision: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())

    transfer_id: Mapped[str | None] = mapped_column(String(40), default=None)
    # How the customer answered a challenge: passed | failed | disowned.
    challenge_result: Mapped[str | None] = mapped_column(String(12), default=None)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
    monitored_stamp: Mapped[str | None] = mapped_column(String(40), default=None)
    monitored_at: Mapped[datetime | None] = mapped_column(default=None)
    alerted_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        UniqueConstraint("channel", "subject_ref", name="uq_risk_decisions_subject"),
        *(Index(f"ix_risk_decisions_{c}", c, "occurred_at") for c in ENTITY_COLUMNS),
        Index("ix_risk_decisions_occurred", "occurred_at"),
        Index("ix_risk_decisions_transfer", "transfer_id"),
        CheckConstraint("outcome IN ('allow', 'challenge', 'review', 'deny')", name="outcome_known"),
    )


class RiskFeatureSet(Base):
    """A feature vocabulary the decision log's packed vectors are written over: its id is a digest of the
    ordered names, so a process registers the one its code has, and a row stays readable after an upgrade
    changes the vocabulary. Written once per vocabulary (INSERT … ON CONFLICT DO NOTHING), never changed."""

    __tablename__ = "risk_feature_sets"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    names: Mapped[list[str]] = mapped_column(JSON)


class RiskLabel(Base):
    """What a decision turned out to be (fraud or genuine), as known from `arrived_at`. Append-only."""

    __tablename__ = "risk_labels"

    seq: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    decision_id: Mapped[str] = mapped_column(ForeignKey("risk_decisions.id"), index=True)
    fraud: Mapped[bool]
    source: Mapped[str] = mapped_column(String(24))  # analyst | chargeback | customer | release | close …
    staff_id: Mapped[str | None] = mapped_column(String(40), default=None)
    arrived_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())

    __table_args__ = (Index("ix_risk_labels_arrived", "arrived_at"),)


class RiskCase(Base):
    """An analyst's work item about one decision: held for review, denied, or raised by the monitor."""

    __tablename__ = "risk_cases"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    decision_id: Mapped[str] = mapped_column(ForeignKey("risk_decisions.id"), unique=True)
    customer_id: Mapped[str | None] = mapped_column(String(64), default=None)
    channel: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(12))  # the decision's outcome, for the queue's filters
    origin: Mapped[str] = mapped_column(String(12))  # review | deny | monitor
    held: Mapped[bool] = mapped_column(default=False)  # money waits for this case
    status: Mapped[str] = mapped_column(String(12), default="open")
    assignee: Mapped[str | None] = mapped_column(String(40), default=None)
    resolution: Mapped[str | None] = mapped_column(String(24), default=None)
    note: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    updated_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_by: Mapped[str | None] = mapped_column(String(40), default=None)

    __table_args__ = (
        Index("ix_risk_cases_queue", "status", "opened_at"),
        CheckConstraint("status IN ('open', 'released', 'confirmed', 'closed')", name="status_known"),
    )


class RiskCaseAction(Base):
    """One thing an analyst (or the system) did on a case. Append-only."""

    __tablename__ = "risk_case_actions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("risk_cases.id"), index=True)
    action: Mapped[str] = mapped_column(String(24))  # opened | assigned | note | release | confirm_fraud …
    staff_id: Mapped[str | None] = mapped_column(String(40), default=None)
    from_status: Mapped[str | None] = mapped_column(String(12), default=None)
    to_status: Mapped[str | None] = mapped_column(String(12), default=None)
    note: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(default=lambda: clock.now())


class RiskRule(Base):
    """One version of an expert rule and its maker-checker state."""

    __tablename__ = "risk_rules"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    expression: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(12))
    weight: Mapped[float] = mapped_column(Float, default=0.0)
    reason: Mapped[str] = mapped_column(String(100), default="")
    mode: Mapped[str] = mapped_column(String(8), default="shadow")
    status: Mapped[str] = mapped_column(String(12), default="proposed")
    note: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(40))
    approver: Mapped[str | None] = mapped_column(String(40), default=None)
    decision_note: Mapped[str] = mapped_column(Text, default="")  # why rejected / retired
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    decided_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        UniqueConstraint("key", "version", name="uq_risk_rules_version"),
        Index("ix_risk_rules_status", "status", "key"),
        CheckConstraint(
            "status IN ('draft', 'proposed', 'published', 'rejected', 'retired')", name="status_known"
        ),
        CheckConstraint("mode IN ('live', 'shadow')", name="mode_known"),
    )


class RiskListEntry(Base):
    """A value on a block, allow or watch list. Removal is a timestamp, never a delete."""

    __tablename__ = "risk_list_entries"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    list_kind: Mapped[str] = mapped_column(String(8))
    subject_kind: Mapped[str] = mapped_column(String(12))
    value: Mapped[str] = mapped_column(String(160))  # the entity key (keyed hash for ip/device/payee)
    display: Mapped[str] = mapped_column(String(80), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    removed_at: Mapped[datetime | None] = mapped_column(default=None)
    removed_by: Mapped[str | None] = mapped_column(String(40), default=None)

    __table_args__ = (
        Index("ix_risk_list_entries_value", "subject_kind", "value"),
        CheckConstraint("list_kind IN ('block', 'allow', 'watch')", name="list_kind_known"),
    )


class RiskListAudit(Base):
    """Every change to the lists, with who made it and why. Append-only."""

    __tablename__ = "risk_list_audit"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("risk_list_entries.id"), index=True)
    action: Mapped[str] = mapped_column(String(8))  # add | remove
    list_kind: Mapped[str] = mapped_column(String(8))
    subject_kind: Mapped[str] = mapped_column(String(12))
    display: Mapped[str] = mapped_column(String(80), default="")
    staff_id: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=lambda: clock.now())


class RiskModel(Base):
    """A trained model in the registry: its bytes and everything needed to judge and reproduce it."""

    __tablename__ = "risk_models"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[str] = mapped_column(String(40), unique=True)
    role: Mapped[str] = mapped_column(String(12), default="challenger")
    source: Mapped[str] = mapped_column(String(12), default="trained")  # trained | bootstrap
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    feature_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    labels_known_at: Mapped[datetime]
    rows: Mapped[int] = mapped_column(default=0)
    frauds: Mapped[int] = mapped_column(default=0)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    promoted_at: Mapped[datetime | None] = mapped_column(default=None)
    retired_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        Index("ix_risk_models_role", "role"),
        CheckConstraint("role IN ('champion', 'challenger', 'retired')", name="role_known"),
    )


class RiskModelPromotion(Base):
    """A request to make a model the champion and a second person's decision on it (maker-checker). The
    row is the promotion's audit trail: who asked and why, who approved or rejected it, when."""

    __tablename__ = "risk_model_promotions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("risk_models.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(40))
    requested_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    decided_by: Mapped[str | None] = mapped_column(String(40), default=None)  # None: closed by the system
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decision_note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        Index("uq_risk_model_promotions_pending", "model_id", unique=True,
              sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'")),
        CheckConstraint("status IN ('pending', 'approved', 'rejected', 'withdrawn')", name="status_known"),
        CheckConstraint("decided_by IS NULL OR decided_by <> requested_by", name="second_person"),
    )


class RiskRevision(Base):
    __tablename__ = "risk_revision"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    stamp: Mapped[str] = mapped_column(String(40))
    changed_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())


class RiskMonitorCursor(Base):
    """How far the post-event monitor got under revision `stamp` (service/monitor.py). One row, locked by
    the monitor at work: the re-scan of the window over the log up to `base` in (occurred_at, seq) order,
    and the tail past `base` in log order."""

    __tablename__ = "risk_monitor_cursor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # always 1
    stamp: Mapped[str] = mapped_column(String(40))
    base: Mapped[int] = mapped_column(_SEQ)  # the log's end when this stamp's pass began
    scan_at: Mapped[datetime | None] = mapped_column(default=None)  # the re-scan's last row…
    scan_seq: Mapped[int | None] = mapped_column(_SEQ, default=None)  # …(occurred_at, seq); None: none yet
    scan_done: Mapped[bool] = mapped_column(default=False)
    high: Mapped[int] = mapped_column(_SEQ)  # the tail: positions past `base` examined up to here
    started_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    updated_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())


class RiskMonitorPending(Base):
    """A log position the monitor passed that may become a candidate later: an allowed payment not yet
    completed, or a position not yet visible (its transaction in flight; forgotten after
    `risk.gap_timeout_s`)."""

    __tablename__ = "risk_monitor_pending"

    seq: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=False)
    noted_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
