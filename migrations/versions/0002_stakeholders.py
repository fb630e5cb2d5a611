"""stakeholders: contacts, organisation types, lists, suppressions

Revision ID: 0002_stakeholders
Revises: 0001_foundation
Create Date: 2026-11-22 20:28:36.700534
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# Copied, not imported: a migration must keep meaning what it meant when written.
SEEDED_ORGANISATION_TYPES = (
    "Chief Constable's office",
    "Police and Crime Panel",
    "Community Safety Partnership",
    "Local authority",
    "Victims' service",
    "Violence Reduction partnership",
    "Criminal justice partner",
    "Health",
    "Fire and rescue",
    "Voluntary and community group",
    "Business",
    "Elected member",
    "Member of the public",
)


revision: str = "0002_stakeholders"
down_revision: str | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("choosable", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_lists")),
        sa.UniqueConstraint("name", name=op.f("uq_contact_lists_name")),
    )
    organisation_types = op.create_table(
        "organisation_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation_types")),
        sa.UniqueConstraint("name", name=op.f("uq_organisation_types_name")),
    )
    system_keys = op.create_table(
        "system_keys",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_system_keys")),
    )
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("email_key", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=False),
        sa.Column("organisation_type_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=200), nullable=False),
        sa.Column("area", sa.String(length=200), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("lawful_basis", sa.String(length=40), nullable=False),
        sa.Column("lawful_basis_recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unsubscribed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unsubscribed_from_send", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_type_id"],
            ["organisation_types.id"],
            name=op.f("fk_contacts_organisation_type_id_organisation_types"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint("email_key", name=op.f("uq_contacts_email_key")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index("ix_contacts_name", ["name"], unique=False)
        batch_op.create_index("ix_contacts_organisation", ["organisation"], unique=False)
        batch_op.create_index(
            "ix_contacts_organisation_type_id", ["organisation_type_id"], unique=False
        )
        batch_op.create_index("ix_contacts_status", ["status"], unique=False)

    op.create_table(
        "list_memberships",
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_list_memberships_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["contact_lists.id"],
            name=op.f("fk_list_memberships_list_id_contact_lists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("list_id", "contact_id", name=op.f("pk_list_memberships")),
    )
    with op.batch_alter_table("list_memberships", schema=None) as batch_op:
        batch_op.create_index("ix_list_memberships_contact_id", ["contact_id"], unique=False)

    op.create_table(
        "suppressions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("send_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_suppressions_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppressions")),
        sa.UniqueConstraint("address_hash", name=op.f("uq_suppressions_address_hash")),
    )

    # The types a police and crime plan consultation must reach; editable afterwards.
    op.bulk_insert(
        organisation_types,
        [{"name": name, "position": i} for i, name in enumerate(SEEDED_ORGANISATION_TYPES)],
    )

    # The key of the suppression list's hashes, made once here so every process finds
    # it and nothing has to create it in the middle of some other transaction.
    op.bulk_insert(
        system_keys,
        [{"name": "suppression", "value": secrets.token_hex(32), "created_at": datetime.now(UTC)}],
    )


def downgrade() -> None:
    op.drop_table("suppressions")
    with op.batch_alter_table("list_memberships", schema=None) as batch_op:
        batch_op.drop_index("ix_list_memberships_contact_id")

    op.drop_table("list_memberships")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_contacts_status")
        batch_op.drop_index("ix_contacts_organisation_type_id")
        batch_op.drop_index("ix_contacts_organisation")
        batch_op.drop_index("ix_contacts_name")

    op.drop_table("contacts")
    op.drop_table("system_keys")
    op.drop_table("organisation_types")
    op.drop_table("contact_lists")
