from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import SAWarning

from contacts.models import Contact, ListMembership
from mailer import migrate
from mailer.database import Base, Database, utcnow
from tests.conftest import BACKENDS, fresh_database


def test_upgrade_from_empty_then_again_changes_nothing(database_url: str) -> None:
    database = Database(database_url)
    try:
        migrate.upgrade(database)
        tables_before = set(inspect(database.engine).get_table_names())
        before, after = migrate.upgrade(database)
        assert before == after == migrate.head_revision(database_url)
        assert set(inspect(database.engine).get_table_names()) == tables_before
        assert {"users", "audit_log", "login_attempts", "alembic_version"} <= tables_before
    finally:
        database.dispose()


# Alembic cannot compare an index on an expression (it skips reflecting them): each is
# checked by name instead.
EXPRESSION_INDEXES = {"ix_contacts_area_key"}


def _index_names(database: Database) -> set[str]:
    query = (
        "SELECT name FROM sqlite_master WHERE type = 'index'"
        if database.is_sqlite
        else "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
    )
    with database.engine.connect() as connection:
        return {row[0] for row in connection.exec_driver_sql(query)}


def test_models_and_migration_head_agree(migrated_url: str) -> None:
    database = Database(migrated_url)
    try:
        with database.engine.connect() as connection, warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Skipped unsupported reflection", SAWarning)
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = [
                d
                for d in compare_metadata(context, Base.metadata)
                if not (
                    isinstance(d, tuple)
                    and d[0] in ("add_index", "remove_index")
                    and d[1].name in EXPRESSION_INDEXES
                )
            ]
        assert differences == [], differences
        assert _index_names(database) >= EXPRESSION_INDEXES
    finally:
        database.dispose()


def test_one_head_and_every_revision_file_is_reachable() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    files = {p.stem for p in (migrate.paths.migrations_dir() / "versions").glob("*.py")}
    revisions = {rev.revision for rev in script.walk_revisions()}
    assert revisions == files, "revision ids must match their file names"


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_contact_keys_come_in_without_losing_anything_or_reusing_an_id(
    backend: str, tmp_path: Path
) -> None:
    """0009 on a database with contacts: each gets a key; keyless links stay good only
    where no erased contact held the id before; nothing is cascaded away by the SQLite
    table rebuild; a new contact never gets an erased contact's id."""
    with fresh_database(backend, tmp_path) as url:
        database = Database(url)
        try:
            cfg = migrate.alembic_config(url)
            with database.engine.begin() as connection:
                cfg.attributes["connection"] = connection
                command.upgrade(cfg, "0007_claim_index")
                connection.execute(
                    text(
                        "INSERT INTO contacts (id, email, email_key, name, organisation, role,"
                        " area, tags, status, source, lawful_basis, lawful_basis_recorded_at,"
                        " created_at, updated_at) VALUES (:id, :e, :e, '', '', '', '', '',"
                        " 'active', 'import', 'public task', :now, :now, :now)"
                    ),
                    [{"id": n, "e": f"p{n}@example.org", "now": utcnow()} for n in (1, 2, 3)],
                )
                connection.execute(
                    text(
                        "INSERT INTO contact_lists (id, name, description, choosable, created_at)"
                        " VALUES (1, 'Partners', '', false, :now)"
                    ),
                    {"now": utcnow()},
                )
                connection.execute(
                    text(
                        "INSERT INTO list_memberships (list_id, contact_id, joined_at, source)"
                        " VALUES (1, :c, :now, 'import')"
                    ),
                    [{"c": n, "now": utcnow()} for n in (1, 2, 3)],
                )
                # Contact 3 holds an id an erased contact had; 4 was erased and not reused.
                connection.execute(
                    text(
                        "INSERT INTO audit_log (at, actor_label, action, target_type, target_id,"
                        " summary, detail) VALUES (:now, 'admin', 'contact.erased', 'contact',"
                        " :id, '', '{}')"
                    ),
                    [{"id": "3", "now": utcnow()}, {"id": "4", "now": utcnow()}],
                )
                if backend == "postgresql":  # where the sequence would be had it made them
                    connection.execute(text("SELECT setval('contacts_id_seq', 4)"))
            migrate.upgrade(database)
            with database.transaction() as session:
                contacts = {c.id: c for c in session.scalars(select(Contact))}
                assert len({c.link_key for c in contacts.values()}) == 3
                legacy = {n: c.legacy_links for n, c in contacts.items()}
                # PostgreSQL never reused an id; SQLite may have.
                assert legacy == {1: True, 2: True, 3: backend == "postgresql"}
                assert session.scalar(select(func.count()).select_from(ListMembership)) == 3
                session.add(Contact(email="new@example.org", email_key="new@example.org"))
                session.flush()
                assert session.scalar(select(func.max(Contact.id))) > 4
        finally:
            database.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_suppressions_keep_their_rows_and_never_reuse_an_id(backend: str, tmp_path: Path) -> None:
    """0017 on a database holding suppressions: every entry, its contact and its unique
    hash stay; once the newest is lifted, the next suppression gets a new id (a retried
    DELETE by id cannot lift it)."""
    from sqlalchemy.exc import IntegrityError

    from contacts.models import Suppression

    with fresh_database(backend, tmp_path) as url:
        database = Database(url)
        try:
            cfg = migrate.alembic_config(url)
            with database.engine.begin() as connection:
                cfg.attributes["connection"] = connection
                command.upgrade(cfg, "0016_second_factors")
                connection.execute(
                    text(
                        "INSERT INTO contacts (id, email, email_key, name, organisation, role,"
                        " area, tags, status, source, lawful_basis, lawful_basis_recorded_at,"
                        " created_at, updated_at, link_key, legacy_links) VALUES (1, :e, :e,"
                        " '', '', '', '', '', 'unsubscribed', 'import', 'public task', :now,"
                        " :now, :now, 'k1', false)"
                    ),
                    {"e": "p1@example.org", "now": utcnow()},
                )
                connection.execute(
                    text(
                        "INSERT INTO suppressions (id, address_hash, reason, detail,"
                        " contact_id, created_at) VALUES (:id, :h, 'unsubscribed', :d, :c, :now)"
                    ),
                    [
                        {"id": n, "h": f"{n:064x}", "d": f"entry {n}", "c": n if n == 1 else None}
                        | {"now": utcnow()}
                        for n in (1, 2, 3)
                    ],
                )
                if backend == "postgresql":
                    connection.execute(text("SELECT setval('suppressions_id_seq', 3)"))
            migrate.upgrade(database)
            with database.transaction() as session:
                kept = {
                    s.id: (s.detail, s.contact_id) for s in session.scalars(select(Suppression))
                }
                assert kept == {1: ("entry 1", 1), 2: ("entry 2", None), 3: ("entry 3", None)}
                session.delete(session.get(Suppression, 3))
            with database.transaction() as session:
                entry = Suppression(address_hash="f" * 64, reason="unsubscribed")
                session.add(entry)
                session.flush()
                assert entry.id == 4
            with pytest.raises(IntegrityError), database.transaction() as session:
                session.add(Suppression(address_hash=f"{2:064x}", reason="unsubscribed"))
                session.flush()
        finally:
            database.dispose()
