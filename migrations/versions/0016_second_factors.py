"""sign-in fit for a public body: authenticator apps (totp_secrets, with a replacement
being set up), recovery codes, passkeys; how each session began and from where; which
step a sign-in attempt was; the passkey handle and single sign-on subject of each user

Revision ID: 0016_second_factors
Revises: 0015_bounces
Create Date: 2026-12-01 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_second_factors"
down_revision: str | None = "0015_bounces"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "totp_secrets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=False),
        sa.Column("replacement", sa.String(length=255), nullable=True),
        sa.Column("replacement_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_totp_secrets_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_totp_secrets")),
        sa.UniqueConstraint("user_id", name=op.f("uq_totp_secrets_user_id")),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_recovery_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
        sa.UniqueConstraint(
            "user_id", "code_hash", name=op.f("uq_recovery_codes_user_id_code_hash")
        ),
    )
    op.create_index(op.f("ix_recovery_codes_user_id"), "recovery_codes", ["user_id"], unique=False)
    op.create_table(
        "passkeys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.String(length=1400), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("transports", sa.String(length=200), nullable=False),
        sa.Column("aaguid", sa.String(length=36), nullable=False),
        sa.Column("backed_up", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_passkeys_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passkeys")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_passkeys_credential_id")),
    )
    op.create_index(op.f("ix_passkeys_user_id"), "passkeys", ["user_id"], unique=False)
    with op.batch_alter_table("user_sessions") as batch:
        batch.add_column(
            sa.Column("method", sa.String(40), nullable=False, server_default="password")
        )
        batch.add_column(sa.Column("user_agent", sa.String(300), nullable=False, server_default=""))
        batch.add_column(sa.Column("ip", sa.String(45), nullable=False, server_default=""))
    with op.batch_alter_table("login_attempts") as batch:
        batch.add_column(
            sa.Column("step", sa.String(20), nullable=False, server_default="password")
        )
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("webauthn_handle", sa.String(64), nullable=True))
        batch.add_column(sa.Column("oidc_subject", sa.String(255), nullable=True))
        batch.create_unique_constraint(op.f("uq_users_webauthn_handle"), ["webauthn_handle"])
        batch.create_unique_constraint(op.f("uq_users_oidc_subject"), ["oidc_subject"])


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("uq_users_oidc_subject"), type_="unique")
        batch.drop_constraint(op.f("uq_users_webauthn_handle"), type_="unique")
        batch.drop_column("oidc_subject")
        batch.drop_column("webauthn_handle")
    with op.batch_alter_table("login_attempts") as batch:
        batch.drop_column("step")
    with op.batch_alter_table("user_sessions") as batch:
        batch.drop_column("ip")
        batch.drop_column("user_agent")
        batch.drop_column("method")
    op.drop_index(op.f("ix_passkeys_user_id"), table_name="passkeys")
    op.drop_table("passkeys")
    op.drop_index(op.f("ix_recovery_codes_user_id"), table_name="recovery_codes")
    op.drop_table("recovery_codes")
    op.drop_table("totp_secrets")
