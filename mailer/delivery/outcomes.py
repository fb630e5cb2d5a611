"""Recording "sent" through the database driver directly: the one write made for every
message, so the one place where SQLAlchemy's per-statement cost is worth avoiding.

Each outcome is its own committed transaction and only lands while the row is still
this worker's (state ``sending`` under its name): the same guarantees as the ORM path
in worker.py, which every other outcome takes.

On SQLite the write is made at once (it is local and takes tens of microseconds). On
PostgreSQL it is a round trip and a commit on the server, so the writer sends it and
goes on: the worker opens the next SMTP transaction meanwhile, and ``settle`` waits for
the commit before that next message is handed over (the transports call it just before
DATA). So at most one message per connection is ever handed over and not yet recorded,
as before: the one in flight if the worker dies.
"""

from __future__ import annotations

import contextlib
import logging
import select
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy.engine import Engine

from mailer.database import table_of
from mailer.delivery.models import SENDING, SENT, Delivery

log = logging.getLogger(__name__)

# How long an outcome write may take before the worker gives up on the connection (its
# rows then wait for their lease to run out, and go again).
ANSWER_TIMEOUT = 60.0

_SQL = (
    "UPDATE deliveries SET state = ?, last_reply = ?, sent_at = ?, lease_owner = '', "
    "lease_until = NULL WHERE id = ? AND state = ? AND lease_owner = ?"
)


class SentWriter(Protocol):
    def record(self, *, delivery_id: int, send_id: int, owner: str, reply: str,
               at: datetime) -> None:  # fmt: skip
        """Mark the row sent if it is still ``owner``'s; a lost lease is logged."""
        ...

    def settle(self) -> None:
        """Return once every outcome given to ``record`` is committed (or found lost)."""
        ...

    def close(self) -> None: ...


def sent_writer(engine: Engine, *, lock: AbstractContextManager[Any]) -> SentWriter:
    if engine.dialect.name == "sqlite":
        return SqliteSentWriter(engine, lock=lock)
    return PostgresqlSentWriter(engine)


def _lease_lost(delivery_id: int, send_id: int) -> None:
    log.warning(
        "delivery %s (send %s): lease lost before its outcome was recorded", delivery_id, send_id
    )


def _own_connection(engine: Engine) -> tuple[Any, Any]:
    """A pool connection made the worker's own (detached: closed with it, not handed
    back to the pool in whatever state the writer set), and its driver connection."""
    raw = engine.raw_connection()
    driver = raw.driver_connection
    raw.detach()
    return raw, driver


class SqliteSentWriter:
    """One connection for the outcome writes of every worker thread of a process (they
    take turns on the process's write lock anyway). With one connection per thread,
    each thread's write emptied the others' page caches, and every write read its pages
    from the file again: a third of its cost."""

    def __init__(self, engine: Engine, *, lock: AbstractContextManager[Any]) -> None:
        self.engine = engine
        self.lock = lock  # Database.write_lock: the process's SQLite writers take turns
        # The column's own conversion (UTCDateTime: naive UTC text).
        convert = table_of(Delivery).c.sent_at.type.bind_processor(engine.dialect)
        assert convert is not None  # UTCDateTime converts every value it binds
        self._convert_at = convert
        self._raw: Any = None
        self._cursor: Any = None

    def record(self, *, delivery_id: int, send_id: int, owner: str, reply: str,
               at: datetime) -> None:  # fmt: skip
        params = (SENT, reply, self._convert_at(at), delivery_id, SENDING, owner)
        with self.lock:
            if self._cursor is None:
                self._raw, _driver = _own_connection(self.engine)
                self._cursor = self._raw.cursor()
            try:
                # database.py leaves the connection in autocommit (BEGIN is ours to
                # issue), so the one UPDATE is its own transaction: the same atomicity as
                # BEGIN, UPDATE, COMMIT in one statement. A lone write statement takes
                # SQLite's write lock before it reads, so it waits out the busy timeout
                # like BEGIN IMMEDIATE does.
                self._cursor.execute(_SQL, params)
                changed = self._cursor.rowcount
            except Exception:
                self._close()
                raise
        if changed != 1:
            _lease_lost(delivery_id, send_id)

    def settle(self) -> None:
        """Nothing waits: each outcome was committed by ``record``."""

    def close(self) -> None:
        with self.lock:
            self._close()

    def _close(self) -> None:
        raw, self._raw, self._cursor = self._raw, None, None
        if raw is not None:
            raw.close()


class PostgresqlSentWriter:
    _STATEMENT = b"mailer_record_sent"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._raw: Any = None
        self._pgconn: Any = None
        self._encoding = "utf-8"
        self._pending: tuple[int, int] | None = None  # (delivery id, send id) on its way

    def _connect(self) -> None:
        from psycopg import pq

        self._raw, driver = _own_connection(self.engine)
        driver.autocommit = True
        # database.py makes PostgreSQL plan every statement with its values, for the
        # queries whose best plan depends on them. This one finds a row by its key
        # whatever the values, and planning it afresh cost three times the write itself
        # (450 us a message instead of 150 at 20,000 rows): the default lets the server
        # keep one plan for the prepared statement.
        driver.execute("SET plan_cache_mode TO DEFAULT")
        self._encoding = driver.info.encoding
        self._pgconn = driver.pgconn
        numbered = _SQL
        for number in range(1, 7):
            numbered = numbered.replace("?", f"${number}", 1)
        result = self._pgconn.prepare(self._STATEMENT, numbered.encode("ascii"))
        if result.status != pq.ExecStatus.COMMAND_OK:
            raise RuntimeError(f"cannot prepare the outcome write: {_error(result)}")

    def record(self, *, delivery_id: int, send_id: int, owner: str, reply: str,
               at: datetime) -> None:  # fmt: skip
        self.settle()  # one write on its way at a time
        if self._pgconn is None:
            self._connect()
        encoding = self._encoding
        params = [
            SENT.encode(encoding),
            reply.encode(encoding),
            at.astimezone(UTC).isoformat().encode("ascii"),
            str(delivery_id).encode("ascii"),
            SENDING.encode(encoding),
            owner.encode(encoding),
        ]
        try:
            # An autocommit statement: the server commits it on its own. Sent now (a
            # short write to the socket), its result read in settle().
            self._pgconn.send_query_prepared(self._STATEMENT, params)
        except Exception:
            self.close()
            raise
        self._pending = (delivery_id, send_id)

    def settle(self) -> None:
        pending, self._pending = self._pending, None
        if pending is None:
            return
        from psycopg import pq

        pgconn = self._pgconn
        try:
            pgconn.consume_input()
            while pgconn.is_busy():
                # Wait for the server without holding the interpreter lock (select does
                # not hold it), then read what arrived.
                readable, _, _ = select.select([pgconn.socket], [], [], ANSWER_TIMEOUT)
                if not readable:
                    raise TimeoutError(f"the database did not answer for {ANSWER_TIMEOUT:.0f} s")
                pgconn.consume_input()
            result = pgconn.get_result()
            while pgconn.get_result() is not None:  # the end of this statement's results
                pass
        except Exception:
            self.close()
            raise
        if result is None or result.status != pq.ExecStatus.COMMAND_OK:
            self.close()
            raise RuntimeError(
                f"delivery {pending[0]} (send {pending[1]}): recording it as sent failed: "
                f"{_error(result)}"
            )
        if result.command_tuples != 1:
            _lease_lost(*pending)

    def close(self) -> None:
        if self._pending is not None:
            with contextlib.suppress(Exception):  # settle() logs and closes on failure
                self.settle()
        raw, self._raw, self._pgconn, self._pending = self._raw, None, None, None
        if raw is not None:
            raw.close()


def _error(result: Any) -> str:
    if result is None:
        return "no reply from the database"
    message = result.error_message
    return message.decode("utf-8", "replace").strip() if isinstance(message, bytes) else message
