"""consultations: who contributed to each version since its last approval, the hash of
the version approved, and why it went back to draft

Revision ID: 0008_approval_versions
Revises: 0007_claim_index
Create Date: 2026-12-01 05:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_approval_versions"
down_revision: str | None = "0007_claim_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consultation_contributions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("user_email", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("part", sa.String(length=300), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approval_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_consultation_contributions_consultation_id",
        "consultation_contributions",
        ["consultation_id"],
    )
    with op.batch_alter_table("consultations") as batch:
        batch.add_column(sa.Column("approved_hash", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("returned_note", sa.String(length=500), nullable=False, server_default="")
        )
    with op.batch_alter_table("consultations") as batch:
        batch.alter_column("returned_note", server_default=None)
    # Consultations not yet approved: their author (and submitter) made what waits for
    # approval, so they may not approve it under the two-person rule.
    op.execute(
        """
        INSERT INTO consultation_contributions (consultation_id, user_id, user_email,
            action, part, at)
        SELECT c.id, u.id, u.email, 'created', 'the consultation', c.created_at
        FROM consultations c JOIN users u ON u.id = c.created_by_id
        WHERE c.state IN ('draft', 'awaiting_approval')
        """
    )
    # Approved ones: their author's part was covered by that approval (stamped with it),
    # which also dates the last approval.
    op.execute(
        """
        INSERT INTO consultation_contributions (consultation_id, user_id, user_email,
            action, part, at, approval_at)
        SELECT c.id, u.id, u.email, 'created', 'the consultation', c.created_at,
            c.approved_at
        FROM consultations c JOIN users u ON u.id = c.created_by_id
        WHERE c.state = 'scheduled' AND c.approved_at IS NOT NULL
        """
    )
    op.execute(
        """
        INSERT INTO consultation_contributions (consultation_id, user_id, user_email,
            action, part, at)
        SELECT c.id, u.id, u.email, 'submitted', 'the consultation', c.submitted_at
        FROM consultations c JOIN users u ON u.id = c.submitted_by_id
        WHERE c.state = 'awaiting_approval' AND c.submitted_at IS NOT NULL
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("consultations") as batch:
        batch.drop_column("returned_note")
        batch.drop_column("approved_hash")
    op.drop_index(
        "ix_consultation_contributions_consultation_id", table_name="consultation_contributions"
    )
    op.drop_table("consultation_contributions")
