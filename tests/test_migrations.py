from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from mailer import migrate
from mailer.database import Base, Database


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


def test_models_and_migration_head_agree(migrated_url: str) -> None:
    database = Database(migrated_url)
    try:
        with database.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
        assert differences == [], differences
    finally:
        database.dispose()


def test_one_head_and_every_revision_file_is_reachable() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    files = {p.stem for p in (migrate.paths.migrations_dir() / "versions").glob("*.py")}
    revisions = {rev.revision for rev in script.walk_revisions()}
    assert revisions == files, "revision ids must match their file names"
