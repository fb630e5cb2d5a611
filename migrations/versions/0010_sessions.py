"""user_sessions: a row per signed-in browser, so signing out ends the session on the
server and idle and absolute lifetimes are enforced there; sends and the stop switch
remember the role of whoever paused or stopped them, so a stop is lifted only by
someone of that rank or above

Revision ID: 0010_sessions
Revises: 0009_contact_keys
Create Date: 2026-12-01 05:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_sessions"
down_revision: str | None = "0009_contact_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_reason", sa.String(length=40), nullable=False, server_default=""),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_user_sessions_key_hash")),
    )
    op.create_index("ix_user_sessions_user_id", "user_sessions", ["user_id"])
    with op.batch_alter_table("sends") as batch:
        batch.add_column(
            sa.Column("paused_by_role", sa.String(20), nullable=False, server_default="")
        )
    with op.batch_alter_table("sending_switch") as batch:
        batch.add_column(
            sa.Column("stopped_by_role", sa.String(20), nullable=False, server_default="")
        )
    # A stop made before this upgrade is treated as an admin's, so it sticks.
    op.execute("UPDATE sending_switch SET stopped_by_role = 'admin' WHERE stopped")


def downgrade() -> None:
    with op.batch_alter_table("sending_switch") as batch:
        batch.drop_column("stopped_by_role")
    with op.batch_alter_table("sends") as batch:
        batch.drop_column("paused_by_role")
    op.drop_index("ix_user_sessions_user_id", table_name="user_sessions")
    op.drop_table("user_sessions")
