"""Tables the payments domain owns: transfers and saved payees. (The simulated rail's tables live in
`payments/rail/models.py`: they stand in for another system's database.)"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from atrium.db.base import Base, MinorUnits
from atrium.kit import clock


class Payee(Base):
    """A counterparty a customer saved: an Atrium account number, or a bank code + account number."""

    __tablename__ = "payees"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(16))  # atrium | external
    bank_code: Mapped[str] = mapped_column(String(11))  # ATRM for Atrium accounts
    account_number: Mapped[str] = mapped_column(String(34))
    account_name: Mapped[str] = mapped_column(String(120))  # the holder's name, sent to the rail
    nickname: Mapped[str] = mapped_column(String(120))  # the customer's own label for the payee
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    updated_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)  # soft delete: history keeps names

    __table_args__ = (
        Index("ix_payees_customer", "customer_id", "nickname"),
        # One live payee per destination and customer; a deleted one may be saved again.
        Index(
            "uq_payees_live_destination",
            "customer_id", "bank_code", "account_number",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )


class Transfer(Base):
    """One transfer, whatever its route. Own/internal ones are born `completed`; interbank ones are born
    `pending` (money held) and end `settled`, `returned` or `failed`. The risk decision may instead make
    it `held` (money held while an analyst reviews it: then `completed`/`pending`, or `cancelled`) or
    `declined` (nothing moved); a customer who says a challenged payment was not theirs makes it
    `cancelled`."""

    __tablename__ = "transfers"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # trf_…, also the rail instruction id
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(16))  # own | internal | interbank (| qr, … added later)
    method: Mapped[str] = mapped_column(String(32))  # the limits method it counted against
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    from_account_id: Mapped[str] = mapped_column(String(40), index=True)
    from_ledger_account_id: Mapped[str] = mapped_column(String(40))
    # Where the money went, as resolved at the time (a payee may be renamed or deleted later).
    to_type: Mapped[str] = mapped_column(String(16))  # own | atrium | payee | external (| merchant …)
    to_account_id: Mapped[str | None] = mapped_column(String(40), index=True)
    to_ledger_account_id: Mapped[str | None] = mapped_column(String(40))
    to_payee_id: Mapped[str | None] = mapped_column(ForeignKey("payees.id"))
    to_bank_code: Mapped[str | None] = mapped_column(String(11))
    to_account_number: Mapped[str | None] = mapped_column(String(34))
    to_name: Mapped[str | None] = mapped_column(String(120))
    to_display: Mapped[str] = mapped_column(String(160))
    amount_minor: Mapped[int] = mapped_column(MinorUnits)
    currency: Mapped[str] = mapped_column(String(3))
    memo: Mapped[str] = mapped_column(String(140), default="")
    idempotency_key: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    journal_id: Mapped[str | None] = mapped_column(String(40))  # own/internal: the posting journal
    hold_id: Mapped[str | None] = mapped_column(String(40))  # interbank: the hold on the payer
    settlement_journal_id: Mapped[str | None] = mapped_column(String(40))  # clearing → settlement asset
    submit_attempts: Mapped[int] = mapped_column(default=0)
    next_submit_at: Mapped[datetime | None] = mapped_column(default=None)
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    # An ISO 20022 return reason (AC01, …) or the bank's own: risk-declined, risk-rejected, not-me.
    failure_code: Mapped[str | None] = mapped_column(String(32))
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    updated_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    settled_at: Mapped[datetime | None] = mapped_column(default=None)  # when it reached a final status
    # The anti-fraud decision it passed (None: not screened, e.g. between own accounts) and, when it was
    # held, declined or cancelled for risk, the reason codes the customer is shown.
    risk_decision_id: Mapped[str | None] = mapped_column(String(40), default=None)
    risk_reasons: Mapped[list[str] | None] = mapped_column(JSON, default=None)

    __table_args__ = (
        UniqueConstraint("customer_id", "idempotency_key", name="uq_transfers_customer_idempotency_key"),
        Index("ix_transfers_customer_id_desc", "customer_id", "id"),
        # Transfers waiting for an analyst (the held-for-review handler and the staff dashboard).
        Index(
            "ix_transfers_held",
            "created_at",
            sqlite_where=text("status = 'held'"),
            postgresql_where=text("status = 'held'"),
        ),
        # The rail submitter's work queue: pending interbank transfers only.
        Index(
            "ix_transfers_pending",
            "created_at",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )
