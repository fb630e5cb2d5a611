"""queued_messages: mail a request asks for (sign-up confirmations, test sends) is
queued and sent by the delivery workers, so no request holds the database's write
lock while it talks to a relay

Revision ID: 0012_mail_queue
Revises: 0011_public_limits
Create Date: 2026-12-01 05:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_mail_queue"
down_revision: str | None = "0011_public_limits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "queued_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("recipient_key", sa.String(length=320), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=80), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_reply", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("bulletin_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["bulletin_id"],
            ["bulletins.id"],
            name=op.f("fk_queued_messages_bulletin_id_bulletins"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queued_messages")),
    )
    with op.batch_alter_table("queued_messages") as batch:
        batch.create_index(
            "ix_queued_messages_state_next_attempt_at", ["state", "next_attempt_at", "id"]
        )
        batch.create_index("ix_queued_messages_bulletin_id", ["bulletin_id"])
        batch.create_index("ix_queued_messages_recipient_key", ["recipient_key"])


def downgrade() -> None:
    op.drop_table("queued_messages")
