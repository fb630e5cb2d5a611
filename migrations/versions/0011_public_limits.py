"""public_requests: uses of the public forms (keyed hashes of the address and the
client network, kept a day), so that sign-up and "I shared this" limits hold across
every web process

Revision ID: 0011_public_limits
Revises: 0010_sessions
Create Date: 2026-12-01 05:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_public_limits"
down_revision: str | None = "0010_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "public_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("form", sa.String(20), nullable=False),
        sa.Column("address_key", sa.String(64), nullable=True),
        sa.Column("network_key", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_public_requests_form_at", "public_requests", ["form", "at"])
    op.create_index("ix_public_requests_address_key_at", "public_requests", ["address_key", "at"])
    op.create_index("ix_public_requests_network_key_at", "public_requests", ["network_key", "at"])


def downgrade() -> None:
    op.drop_table("public_requests")
