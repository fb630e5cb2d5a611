"""Recording "sent" through the database driver directly: the one write made for every
message, so the one place where SQLAlchemy's per-statement cost is worth avoiding.

Each outcome is still its own committed transaction and still only lands while the row
is this worker's (state ``sending`` under its name): the same guarantees as the ORM
path in worker.py, which every other outcome takes.
"""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from mailer.delivery.models import SENDING, SENT, Delivery

_SQL = (
    "UPDATE deliveries SET state = ?, last_reply = ?, sent_at = ?, lease_owner = '', "
    "lease_until = NULL WHERE id = ? AND state = ? AND lease_owner = ?"
)


class SentWriter:
    def __init__(self, engine: Engine, *, lock: AbstractContextManager[Any]) -> None:
        self.engine = engine
        self.lock = lock  # Database.write_lock: the process's SQLite writers take turns
        dialect = engine.dialect
        self._sqlite = dialect.name == "sqlite"
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        # Every value travels as a parameter; only the driver's placeholder differs.
        self._sql = _SQL.replace("?", mark)
        # The column's own conversion (UTCDateTime: naive UTC text on SQLite).
        self._convert_at = Delivery.__table__.c.sent_at.type.bind_processor(dialect) or (
            lambda value: value
        )
        self._raw: Any = None

    def record(self, *, delivery_id: int, owner: str, reply: str, at: datetime) -> bool:
        """True when the row was still ``owner``'s and is now sent (committed)."""
        if self._raw is None:
            self._raw = self._connect()
        try:
            cursor = self._raw.cursor()
            # The connection is in autocommit mode (SQLite: database.py takes transaction
            # control; PostgreSQL: set in _connect), so the one UPDATE is its own
            # transaction: one statement instead of BEGIN, UPDATE, COMMIT, the same
            # atomicity. On SQLite a lone write statement takes the write lock before it
            # reads anything, so it waits out the busy timeout like BEGIN IMMEDIATE does.
            with self.lock:
                cursor.execute(self._sql, self._params(delivery_id, owner, reply, at))
            changed = cursor.rowcount
            cursor.close()
        except Exception:
            self.close()
            raise
        return changed == 1

    def _params(self, delivery_id: int, owner: str, reply: str, at: datetime) -> tuple:
        return (SENT, reply, self._convert_at(at), delivery_id, SENDING, owner)

    def _connect(self) -> Any:
        raw = self.engine.raw_connection()
        driver = raw.driver_connection
        # The worker's own from now on, closed with it rather than handed back to the
        # pool in the state set below.
        raw.detach()
        if not self._sqlite:
            driver.autocommit = True
            # database.py makes PostgreSQL plan every statement with its values, for the
            # queries whose best plan depends on them. This one finds a row by its key
            # whatever the values, and planning it afresh cost three times the write
            # itself (450 us a message instead of 150 at 20,000 rows): the default lets
            # the server keep one plan for it once psycopg has prepared it.
            with driver.cursor() as cursor:
                cursor.execute("SET plan_cache_mode TO DEFAULT")
        return raw

    def close(self) -> None:
        raw, self._raw = self._raw, None
        if raw is not None:
            with contextlib.suppress(Exception):
                raw.rollback()
            raw.close()
