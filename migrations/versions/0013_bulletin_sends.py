"""bulletins on their own: a send of any bulletin to an audience, submitted and
approved like a consultation; who made each bulletin (the two-person rule); saved
audiences (segments); bulletins about a consultation, copied and archived; the web
version of a send; tracked links of bulletins without a consultation

Revision ID: 0013_bulletin_sends
Revises: 0012_mail_queue
Create Date: 2026-12-01 11:21:04.125449
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_bulletin_sends"
down_revision: str | None = "0012_mail_queue"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_segments_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("name", name=op.f("uq_segments_name")),
    )
    op.create_table(
        "bulletin_contributions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bulletin_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("user_email", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("part", sa.String(length=300), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approval_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["bulletin_id"],
            ["bulletins.id"],
            name=op.f("fk_bulletin_contributions_bulletin_id_bulletins"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_bulletin_contributions_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulletin_contributions")),
    )
    with op.batch_alter_table("bulletin_contributions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bulletin_contributions_bulletin_id"), ["bulletin_id"], unique=False
        )

    with op.batch_alter_table("bulletins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consultation_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("copied_from_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_bulletins_consultation_id"), ["consultation_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_bulletins_copied_from_id_bulletins"),
            "bulletins",
            ["copied_from_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_bulletins_consultation_id_consultations"),
            "consultations",
            ["consultation_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("sends", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("submitted_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("requested_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("approved_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("returned_note", sa.String(length=500), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("web_token", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_sends_web_token"), ["web_token"])
        batch_op.create_foreign_key(
            batch_op.f("fk_sends_submitted_by_id_users"),
            "users",
            ["submitted_by_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("tracked_links", schema=None) as batch_op:
        batch_op.alter_column("consultation_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_index(batch_op.f("ix_tracked_links_send_id"), ["send_id"], unique=False)

    with op.batch_alter_table("sends") as batch_op:
        batch_op.create_index("ix_sends_bulletin_id", ["bulletin_id"])
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.create_index("ix_deliveries_send_id_state", ["send_id", "state", "skip_reason"])
    op.create_index("ix_contacts_area_key", "contacts", [sa.text("lower(trim(area))")])
    op.create_index(
        "ix_contacts_unsubscribed_from_send",
        "contacts",
        ["unsubscribed_from_send"],
        postgresql_where=sa.text("unsubscribed_from_send IS NOT NULL"),
        sqlite_where=sa.text("unsubscribed_from_send IS NOT NULL"),
    )

    # Bulletins written before: their writers made them, so under the two-person rule
    # they may not approve the first send of them either.
    op.execute(
        "INSERT INTO bulletin_contributions (bulletin_id, user_id, user_email, action, part, at)"
        " SELECT b.id, u.id, u.email, 'created', '', b.created_at"
        " FROM bulletins b JOIN users u ON u.id = b.created_by_id"
    )


def downgrade() -> None:
    op.drop_index("ix_contacts_unsubscribed_from_send", table_name="contacts")
    op.drop_index("ix_contacts_area_key", table_name="contacts")
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.drop_index("ix_deliveries_send_id_state")
    with op.batch_alter_table("sends") as batch_op:
        batch_op.drop_index("ix_sends_bulletin_id")
    with op.batch_alter_table("tracked_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracked_links_send_id"))
        batch_op.alter_column("consultation_id", existing_type=sa.INTEGER(), nullable=False)

    with op.batch_alter_table("sends", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_sends_submitted_by_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_sends_web_token"), type_="unique")
        batch_op.drop_column("published_at")
        batch_op.drop_column("web_token")
        batch_op.drop_column("returned_note")
        batch_op.drop_column("approved_hash")
        batch_op.drop_column("requested_at")
        batch_op.drop_column("submitted_by_id")
        batch_op.drop_column("submitted_at")

    with op.batch_alter_table("bulletins", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_bulletins_consultation_id_consultations"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_bulletins_copied_from_id_bulletins"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_bulletins_consultation_id"))
        batch_op.drop_column("archived_at")
        batch_op.drop_column("copied_from_id")
        batch_op.drop_column("consultation_id")

    with op.batch_alter_table("bulletin_contributions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bulletin_contributions_bulletin_id"))

    op.drop_table("bulletin_contributions")
    op.drop_table("segments")
