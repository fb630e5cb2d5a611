"""the message the writer sees: a bulletin's template blocks switched off or reworded;
the office as sender (its chosen from address); approval as a conversation (review
events with comments and what was approved); staff turning off review notices

Revision ID: 0014_review_and_office
Revises: 0013_bulletin_sends
Create Date: 2026-12-01 14:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_review_and_office"
down_revision: str | None = "0013_bulletin_sends"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bulletins") as batch_op:
        batch_op.add_column(sa.Column("blocks", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("organisation_settings") as batch_op:
        batch_op.add_column(
            sa.Column("from_address", sa.String(length=320), nullable=False, server_default="")
        )
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(
            sa.Column("notices_off", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "review_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=True),
        sa.Column("send_id", sa.Integer(), nullable=True),
        sa.Column("bulletin_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("user_email", sa.String(length=320), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_review_events_consultation_id_consultations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["send_id"],
            ["sends.id"],
            name=op.f("fk_review_events_send_id_sends"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["bulletin_id"],
            ["bulletins.id"],
            name=op.f("fk_review_events_bulletin_id_bulletins"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_review_events_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_events")),
    )
    with op.batch_alter_table("review_events") as batch_op:
        batch_op.create_index("ix_review_events_consultation_id", ["consultation_id"])
        batch_op.create_index("ix_review_events_send_id", ["send_id"])
        batch_op.create_index("ix_review_events_bulletin_id", ["bulletin_id"])


def downgrade() -> None:
    op.drop_table("review_events")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("notices_off")
    with op.batch_alter_table("organisation_settings") as batch_op:
        batch_op.drop_column("from_address")
    with op.batch_alter_table("bulletins") as batch_op:
        batch_op.drop_column("blocks")
