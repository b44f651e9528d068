from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from atrium.db.base import Base
from atrium.kit import clock


class AuditRecord(Base):
    """One staff read of customer data: who, what, which customer, when and why. Append-only.

    `customer_id` has no foreign key on purpose: the record of who looked at a customer must outlive the
    customer's own rows (erasure, closure). `staff_role` is the role held at the time of the access.
    `screen` is where the data was shown (`domain.SCREENS`); `reason_category` is the purpose chosen from
    `domain.REVEAL_CATEGORIES` when one is required (reveals), else empty. `session_ref` is the public id of
    the staff sign-in session the read came from (`auth_sessions.sid`, never its token) and `ip` the client
    address as the console saw it; both are None for records written outside a console request (jobs, the
    CLI) and for records older than the columns.
    """

    __tablename__ = "staff_access_audit"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff_users.id"))
    staff_role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(40))  # customer.view | customer.search | ...
    customer_id: Mapped[str | None] = mapped_column(String(40), default=None)
    screen: Mapped[str] = mapped_column(String(40), default="")
    reason_category: Mapped[str] = mapped_column(String(32), default="")
    reason: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(String(200), default="")  # never PII: ids, counts, field names
    occurred_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    session_ref: Mapped[str | None] = mapped_column(String(40), default=None)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)

    __table_args__ = (
        Index("ix_staff_access_audit_customer", "customer_id", "id"),
        Index("ix_staff_access_audit_staff", "staff_id", "id"),
        # The reveal limit counts one staff member's recent reveals.
        Index("ix_staff_access_audit_staff_action_at", "staff_id", "action", "occurred_at"),
        # Compliance follows one sign-in: every record of a session.
        Index("ix_staff_access_audit_session", "session_ref", "id"),
    )
