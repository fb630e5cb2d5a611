"""Schema migrations (Alembic), applied by ``mailer init`` and ``mailer run``."""

from __future__ import annotations

import logging
import sys

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from mailer import paths
from mailer.database import Database

log = logging.getLogger(__name__)

# Any 64-bit number unique to this product; held while migrating so two processes
# starting at once on PostgreSQL do not both try to create the same tables.
_PG_MIGRATION_LOCK = 0x5354414B45484F4C  # "STAKEHOL"


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(paths.migrations_dir()))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(db: Database) -> tuple[str | None, str | None]:
    """Bring the schema to the head revision. Returns (before, after)."""
    cfg = alembic_config(db.url)
    with db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters a table by rebuilding it, and dropping the old table with
            # foreign keys on would run every ON DELETE rule (memberships cascaded
            # away, deliveries unlinked). The pragma is ignored inside a transaction,
            # so it is set on the driver connection before ours begins; the keys are
            # checked before committing and turned on again after.
            _sqlite_pragma(connection, "PRAGMA foreign_keys = OFF")
        try:
            with connection.begin():
                if not sqlite:
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK}
                    )
                before = MigrationContext.configure(connection).get_current_revision()
                cfg.attributes["connection"] = connection
                command.upgrade(cfg, "head")
                after = MigrationContext.configure(connection).get_current_revision()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                _sqlite_pragma(connection, "PRAGMA foreign_keys = ON")
    if before != after:
        log.info("database schema upgraded from %s to %s", before or "empty", after)
    return before, after


def _sqlite_pragma(connection: Connection, pragma: str) -> None:
    """Run ``pragma`` outside any transaction (pysqlite's own transaction handling is
    off on our connections, see mailer.database)."""
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(pragma)


def _main(argv: list[str]) -> None:
    """Developer entry point: ``python -m mailer.migrate revision -m MESSAGE``."""
    import argparse

    from mailer.config import load_config

    parser = argparse.ArgumentParser(prog="python -m mailer.migrate")
    sub = parser.add_subparsers(dest="command", required=True)
    rev = sub.add_parser("revision", help="autogenerate a revision from the models")
    rev.add_argument("-m", "--message", required=True)
    args = parser.parse_args(argv)
    config = load_config()
    db = Database(config.database_url)
    upgrade(db)
    cfg = alembic_config(db.url)
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.revision(cfg, message=args.message, autogenerate=True)


if __name__ == "__main__":
    _main(sys.argv[1:])
