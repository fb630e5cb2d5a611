"""deliveries: the workers' index ends with id, so a claim reads the first due rows
in order and stops (PostgreSQL sorted every queued row of a send on every claim)

Revision ID: 0007_claim_index
Revises: 0006_tracking
Create Date: 2026-11-30 17:55:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007_claim_index"
down_revision: str | None = "0006_tracking"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_state_next_attempt_at")
        batch.create_index(
            "ix_deliveries_state_next_attempt_at", ["state", "next_attempt_at", "id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_state_next_attempt_at")
        batch.create_index("ix_deliveries_state_next_attempt_at", ["state", "next_attempt_at"])
