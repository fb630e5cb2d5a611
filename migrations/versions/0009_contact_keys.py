"""contact keys: every contact gets a random link key that its links carry; SQLite ids
of contacts and sends are never reused (AUTOINCREMENT), so an old link cannot name
whoever came next

Revision ID: 0009_contact_keys
Revises: 0008_approval_versions
Create Date: 2026-12-01 05:30:00
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_contact_keys"
down_revision: str | None = "0008_approval_versions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHUNK = 5000


def _new_key() -> str:
    return secrets.token_urlsafe(9)  # as contacts.models.new_link_key


def _highest_audited_id(connection: sa.Connection, target_type: str) -> int:
    """The highest id the audit log names for ``target_type``: an erased contact's id
    is there even though its row is gone."""
    found = connection.execute(
        sa.text("SELECT target_id FROM audit_log WHERE target_type = :t"), {"t": target_type}
    )
    return max((int(value) for (value,) in found if value and value.isdigit()), default=0)


def _erased_ids(connection: sa.Connection) -> set[int]:
    found = connection.execute(
        sa.text(
            "SELECT target_id FROM audit_log "
            "WHERE target_type = 'contact' AND action = 'contact.erased'"
        )
    )
    return {int(value) for (value,) in found if value and value.isdigit()}


def upgrade() -> None:
    connection = op.get_bind()
    sqlite = connection.dialect.name == "sqlite"
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("link_key", sa.String(length=24), nullable=True))
        batch.add_column(
            sa.Column("legacy_links", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    # Links already sent carry ids alone. On PostgreSQL an id is never reused, so they
    # are all this contact's; SQLite gave an erased newest contact's id to the next one,
    # so an id that an erased contact had is not proof of whose a link is.
    reused = _erased_ids(connection) if sqlite else set()
    contacts = sa.table(
        "contacts",
        sa.column("id", sa.Integer),
        sa.column("link_key", sa.String),
        sa.column("legacy_links", sa.Boolean),
    )
    ids = [row[0] for row in connection.execute(sa.select(contacts.c.id).order_by(contacts.c.id))]
    update = (
        contacts.update()
        .where(contacts.c.id == sa.bindparam("contact_id"))
        .values(link_key=sa.bindparam("key"), legacy_links=sa.bindparam("legacy"))
    )
    for start in range(0, len(ids), CHUNK):
        connection.execute(
            update,
            [
                {"contact_id": i, "key": _new_key(), "legacy": i not in reused}
                for i in ids[start : start + CHUNK]
            ],
        )

    if not sqlite:
        op.alter_column("contacts", "link_key", existing_type=sa.String(length=24), nullable=False)
        return
    # Rebuilt with AUTOINCREMENT (mailer.migrate turns foreign keys off around this, so
    # dropping the old table runs no ON DELETE rule), then told the highest id ever
    # used, which may be an erased contact's or a deleted send's.
    with op.batch_alter_table(
        "contacts", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ) as batch:
        batch.alter_column("link_key", existing_type=sa.String(length=24), nullable=False)
    with op.batch_alter_table(
        "sends", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ) as batch:
        pass
    for table, target_type in (("contacts", "contact"), ("sends", "send")):
        highest = max(
            _highest_audited_id(connection, target_type),
            connection.scalar(sa.select(sa.func.max(sa.table(table, sa.column("id")).c.id))) or 0,
        )
        connection.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = :t"), {"t": table})
        connection.execute(
            sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :seq)"),
            {"t": table, "seq": highest},
        )


def downgrade() -> None:
    # The tables keep AUTOINCREMENT on SQLite: never reusing an id is harmless.
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("legacy_links")
        batch.drop_column("link_key")
