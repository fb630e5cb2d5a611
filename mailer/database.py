"""The database: engine set-up for SQLite and PostgreSQL, sessions, one commit point.

Services take a ``Session`` and never commit; callers (a view, a CLI command, a
scheduled job) wrap a unit of work in ``db.transaction()``, which commits on success
and rolls back on any exception, so nothing is ever half-written.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    CursorResult,
    DateTime,
    Executable,
    MetaData,
    Table,
    TypeDecorator,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)

# Stable constraint names, so Alembic migrations name the same objects on every
# database and a later migration can drop them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_CACHE_KB = 512
SQLITE_BUSY_TIMEOUT_MS = 15_000
HEALTH_WRITE_TIMEOUT_MS = 2_000


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always handed back timezone-aware.

    SQLite has no timezone type and would return naive values; PostgreSQL's
    ``timestamptz`` would return them in the session's zone. Either way the rest of
    the code sees aware UTC datetimes and converts for display only.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a timezone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def row_version(updated_at: datetime | None) -> str:
    """A row's version as a form carries it (a hidden ``loaded_at``): when it was last
    saved, to the microsecond, in UTC; "" for a row never stamped. A save from a form
    loaded from another version is refused (two tabs, two people)."""
    if updated_at is None:
        return ""
    return updated_at.astimezone(UTC).isoformat(timespec="microseconds")


def rows_changed(session: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE and say how many rows it changed.

    ``Session.execute`` is typed to return a plain ``Result``; for these statements it
    is a ``CursorResult``, the one that knows its row count.
    """
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount or 0


def table_of(model: type[Base]) -> Table:
    """The Core table of a mapped class, for an executemany INSERT without the ORM."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the settings each backend needs to be used safely."""
    if url.startswith("sqlite"):
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **kwargs)
    _configure_postgresql(engine)
    return engine


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # psycopg prepares a statement after a few runs, and PostgreSQL then caches a
        # generic plan costed on statistics taken before the transaction started. An
        # import or a send that adds thousands of rows in one transaction leaves those
        # statistics saying "empty", and the cached plan scans instead of using the
        # index: an import slowed from 25 s to 5 minutes at 100,000 rows. Planning
        # each run with its real values costs little for queries this simple.
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET plan_cache_mode TO force_custom_plan")
        dbapi_connection.commit()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so that BEGIN is ours to issue
        # (the SQLAlchemy recipe): workers need BEGIN IMMEDIATE to claim rows, and a
        # deferred transaction that later writes fails at once, whatever the timeout.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            # Each connection keeps its own page cache (2 MB by default), and the workers
            # hold several connections each: on a large database their memory grew with
            # it (+16 % from 10,000 to 100,000 recipients). The kernel caches the file
            # for everyone; a small cache per connection costs a read call, not the disk.
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KB}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode not in ("DEFERRED", "IMMEDIATE", "EXCLUSIVE"):
            raise ValueError(f"unknown SQLite BEGIN mode {mode!r}")
        connection.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """Engine and session factory. One per app (``init_app``) or per process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine | None = make_engine(url)
        # SQLite has one writer at a time, and a writer that finds the lock taken sleeps
        # in the busy handler (1 ms, then 2, 5, ...) rather than queueing. The delivery
        # workers' threads take this lock around their short writes so that, within a
        # process, they queue on it instead. Other processes still meet the busy timeout.
        self.write_lock: threading.Lock | contextlib.nullcontext[None] = (
            threading.Lock() if url.startswith("sqlite") else contextlib.nullcontext()
        )
        self._sessions: sessionmaker[Session] | None = sessionmaker(
            self._engine, expire_on_commit=False
        )

    def init_app(self, app: Flask) -> None:
        app.extensions["mailer.db"] = self
        app.teardown_appcontext(self._close_request_session)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("database not configured; call init_app() or configure()")
        return self._engine

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def new_session(self) -> Session:
        if self._sessions is None:
            raise RuntimeError("database not configured; call init_app() or configure()")
        return self._sessions()

    @property
    def session(self) -> Session:
        """The session of the current request (or app context), made on first use."""
        from flask import g, has_request_context, request

        if "db_session" not in g:
            g.db_session = self.new_session()
            writes = has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")
            if self.is_sqlite and writes:
                # A form post reads, then writes. On SQLite a deferred transaction that
                # turns into a write fails at once if another connection (a worker, the
                # scheduler) committed meanwhile; an immediate one waits its turn.
                g.db_session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        return g.db_session

    @contextmanager
    def transaction(self, session: Session | None = None) -> Iterator[Session]:
        """The one commit point: commit if the block succeeds, roll back if it raises."""
        own = session is None
        if session is None:
            session = self.new_session()
        try:
            if own and self.is_sqlite:
                # A unit of work of its own (a command, a job) usually reads, then
                # writes. On SQLite a deferred transaction that turns into a write
                # fails at once if another connection committed meanwhile; an
                # immediate one waits its turn (busy_timeout) instead.
                session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            if own:
                session.close()

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A transaction that will write, under this process's write lock: on SQLite
        the threads of one process queue on the lock rather than in SQLite's busy
        handler (a transaction of its own begins IMMEDIATE there, see transaction)."""
        with self.write_lock, self.transaction() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session of its own for slow reading (rendering a message, parsing an
        upload) in a request that writes afterwards. On SQLite a form post's session
        holds the write lock from its first query (see ``session``); it lets go of it
        meanwhile, so nobody else's write waits on this work, and takes it again on
        leaving. Nothing may be pending in the request's session when this begins."""
        from flask import g, has_app_context

        request_session: Session | None = (
            g.get("db_session") if self.is_sqlite and has_app_context() else None
        )
        self._release(request_session)
        reader = self.new_session()
        try:
            yield reader
        finally:
            reader.rollback()
            reader.close()
            if request_session is not None:
                # Rows read meanwhile through it (it autobegins) were read deferred.
                self._release(request_session)
                request_session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})

    @staticmethod
    def _release(session: Session | None) -> None:
        if session is None:
            return
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("unsaved changes in the request's session; write them first")
        session.rollback()

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def check_write(self, *, timeout_ms: int = HEALTH_WRITE_TIMEOUT_MS) -> None:
        """Raise unless the database accepts a write now: one is made and rolled back.
        A database that answers reads may still refuse writes (a read-only file, a
        full disk, a writer holding SQLite's lock); waiting at most ``timeout_ms``,
        so a health check answers quickly when writes would fail."""
        with self.engine.connect() as connection:
            if self.is_sqlite:
                connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(timeout_ms)}")
                connection.commit()  # the statement above began a (deferred) transaction
                connection = connection.execution_options(sqlite_begin="IMMEDIATE")
            try:
                transaction = connection.begin()
                try:
                    if not self.is_sqlite:
                        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {int(timeout_ms)}")
                        connection.exec_driver_sql(
                            f"SET LOCAL statement_timeout = {int(timeout_ms) * 2}"
                        )
                    # A row every migrated database has; rewritten as it is.
                    connection.exec_driver_sql(
                        "UPDATE alembic_version SET version_num = version_num"
                    )
                finally:
                    transaction.rollback()
            finally:
                if self.is_sqlite:
                    connection.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
                    connection.commit()

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    @staticmethod
    def _close_request_session(_exc: BaseException | None) -> None:
        from flask import g

        session = g.pop("db_session", None)
        if session is not None:
            session.close()


def get_db() -> Database:
    """The database of the current Flask app."""
    from flask import current_app

    return current_app.extensions["mailer.db"]
