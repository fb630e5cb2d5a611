"""The scheduler's leader lock: only one scheduler fires sends at a time.

PostgreSQL: a session advisory lock held on a connection of its own, re-checked on
every tick (a connection the server dropped has lost it). SQLite, which serves one
machine: an exclusive ``flock`` on a file beside the database. Either is released by
the operating system or the server when the process dies, so a waiting scheduler takes
over.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from mailer import private_files
from mailer.config import Config
from mailer.database import Database

log = logging.getLogger(__name__)

# pg_try_advisory_lock(bigint): "MAIL" in ASCII; below 2**31, so pg_locks shows it as
# objid with classid 0.
LOCK_KEY = 0x4D41494C


class LeaderLock(Protocol):
    def acquire(self) -> bool: ...
    def held(self) -> bool: ...
    def release(self) -> None: ...


class PostgresLock:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Connection | None = None
        # The tick and fired jobs run on different threads; a connection is not shared.
        self._guard = threading.Lock()

    def acquire(self) -> bool:
        with self._guard:
            if self._connection is None:
                self._connection = self.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT"
                )
            try:
                got = bool(
                    self._connection.scalar(
                        text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}
                    )
                )
            except DBAPIError:
                self._drop()
                raise
            if not got:
                self._drop()
            return got

    def held(self) -> bool:
        with self._guard:
            if self._connection is None:
                return False
            try:
                return bool(
                    self._connection.scalar(
                        text(
                            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                            "AND pid = pg_backend_pid() AND classid = 0 AND objid = :key "
                            "AND granted"
                        ),
                        {"key": LOCK_KEY},
                    )
                )
            except DBAPIError as exc:
                log.error("scheduler lock connection failed: %s", exc)
                self._drop()
                return False

    def release(self) -> None:
        with self._guard:
            if self._connection is None:
                return
            # A connection already gone took the lock with it.
            with contextlib.suppress(DBAPIError):
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
            self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.invalidate()
                self._connection.close()
            except DBAPIError:
                pass
            self._connection = None


class FileLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    def acquire(self) -> bool:
        if self._handle is not None:
            return True
        private_files.make_dir(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, private_files.FILE_MODE)
        handle = os.fdopen(fd, "a+")  # held open while leading
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle
        return True

    def held(self) -> bool:
        return self._handle is not None

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def lock_for(db: Database, config: Config) -> LeaderLock:
    if not db.is_sqlite:
        return PostgresLock(db.engine)
    database = db.engine.url.database
    if database and database != ":memory:":
        return FileLock(Path(database).with_name(Path(database).name + ".scheduler-lock"))
    return FileLock(config.instance_path / "scheduler.lock")
