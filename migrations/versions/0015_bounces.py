"""late bounces and complaints: the record of each (bounces), the messages they came
in (bounce_messages), webhook requests already seen (webhook_receipts); deliveries
found by their Message-ID

Revision ID: 0015_bounces
Revises: 0014_review_and_office
Create Date: 2026-12-01 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_bounces"
down_revision: str | None = "0014_review_and_office"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "bounce_messages",
        sa.Column("id", BigId, nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bounce_messages")),
    )
    op.create_index(
        op.f("ix_bounce_messages_received_at"), "bounce_messages", ["received_at"], unique=False
    )
    op.create_table(
        "bounces",
        sa.Column("id", BigId, nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivery_id", BigId, nullable=True),
        sa.Column("send_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("email_key", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("diagnostic", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=300), nullable=False),
        sa.Column("message_ref", BigId, nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_bounces_delivery_id_deliveries"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["send_id"], ["sends.id"], name=op.f("fk_bounces_send_id_sends"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_bounces_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["message_ref"],
            ["bounce_messages.id"],
            name=op.f("fk_bounces_message_ref_bounce_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bounces")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_bounces_fingerprint")),
    )
    op.create_index(
        "ix_bounces_contact_id_kind_received_at",
        "bounces",
        ["contact_id", "kind", "received_at"],
        unique=False,
    )
    op.create_index("ix_bounces_received_at", "bounces", ["received_at"], unique=False)
    op.create_index(op.f("ix_bounces_delivery_id"), "bounces", ["delivery_id"], unique=False)
    op.create_index(op.f("ix_bounces_send_id"), "bounces", ["send_id"], unique=False)
    op.create_index(op.f("ix_bounces_email_key"), "bounces", ["email_key"], unique=False)
    op.create_index(op.f("ix_bounces_message_ref"), "bounces", ["message_ref"], unique=False)
    op.create_table(
        "webhook_receipts",
        sa.Column("id", BigId, nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_receipts")),
        sa.UniqueConstraint("provider", "key", name=op.f("uq_webhook_receipts_provider_key")),
    )
    op.create_index(
        op.f("ix_webhook_receipts_received_at"), "webhook_receipts", ["received_at"], unique=False
    )
    op.create_index("ix_deliveries_message_id", "deliveries", ["message_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_deliveries_message_id", table_name="deliveries")
    op.drop_table("webhook_receipts")
    op.drop_table("bounces")
    op.drop_table("bounce_messages")
