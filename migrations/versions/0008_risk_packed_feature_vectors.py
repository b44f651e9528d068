"""risk packed feature vectors: the decision log keeps the engine's vector packed over a named vocabulary

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 22:10:00

- `risk_feature_sets`: a feature vocabulary (its ordered names) by id, the first 16 hex digits of the
  names' SHA-256. Written by the code that logs over it, once (INSERT … ON CONFLICT DO NOTHING).
- `risk_decisions.feature_set` and `.feature_values`: the vector packed (a bit per name, then the values
  that are present as float64; see `atrium.risk.repository.vectors`), ~0.7 KB against ~2.7 KB of JSON.
  Both nullable. Rows logged before this revision keep their JSON object in `features` and are read as
  before; no backfill rewrites the log.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "risk_feature_sets",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_feature_sets")),
    )
    with op.batch_alter_table("risk_decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("feature_set", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("feature_values", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("risk_decisions", schema=None) as batch_op:
        batch_op.drop_column("feature_values")
        batch_op.drop_column("feature_set")
    op.drop_table("risk_feature_sets")
