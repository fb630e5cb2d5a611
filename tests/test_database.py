from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from mailer.accounts import roles
from mailer.accounts.models import User
from mailer.audit.models import AuditEntry
from mailer.database import Database
from tests.conftest import add_user


def test_sqlite_connections_are_configured_for_safe_concurrency(tmp_path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    database.dispose()


def test_sqlite_begin_immediate_takes_the_write_lock_at_once(tmp_path) -> None:
    """Workers rely on this: a second writer waits at BEGIN, not half-way through."""
    url = f"sqlite:///{tmp_path / 'x.db'}"
    first, second = Database(url), Database(url)
    with first.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    with first.engine.connect().execution_options(sqlite_begin="IMMEDIATE") as holder:
        holder.begin()
        with second.engine.connect() as other:
            other.exec_driver_sql("PRAGMA busy_timeout = 50")
            other.rollback()  # the PRAGMA autobegan; the setting itself stays
            with pytest.raises(Exception, match="locked"):
                other.execution_options(sqlite_begin="IMMEDIATE").begin()
        holder.rollback()
    first.dispose()
    second.dispose()


def test_times_come_back_aware_utc(db: Database) -> None:
    user = add_user(db, email="t@example.org", role=roles.EDITOR)
    moment = datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=1)))
    with db.transaction() as session:
        session.get(User, user.id).last_login_at = moment
    with db.transaction() as session:
        stored = session.get(User, user.id).last_login_at
    assert stored == moment
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(db: Database) -> None:
    user = add_user(db, email="n@example.org", role=roles.EDITOR)
    with pytest.raises(Exception, match="naive datetime"), db.transaction() as session:
        session.get(User, user.id).last_login_at = datetime(2026, 1, 1)
        session.flush()


def test_a_failing_transaction_leaves_nothing_behind(db: Database) -> None:
    add_user(db, email="dup@example.org")
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.add(AuditEntry(action="x", actor_label="t"))
        session.add(
            User(
                email="DUP@example.org",
                email_key="dup@example.org",
                role="admin",
                password_hash="x",
            )
        )
        session.flush()
    with db.transaction() as session:
        assert session.scalars(select(AuditEntry).where(AuditEntry.action == "x")).all() == []


def test_ping(db: Database) -> None:
    db.ping()
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar() == 1
    assert datetime.now(UTC)
