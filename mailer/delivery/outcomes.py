"""Recording "sent" through the database driver directly: the one write made for every
message, so the one place where SQLAlchemy's per-statement cost is worth avoiding.

Each outcome is still its own committed transaction and still only lands while the row
is this worker's (state ``sending`` under its name): the same guarantees as the ORM
path in worker.py, which every other outcome takes.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from mailer.delivery.models import SENDING, SENT, Delivery

_SQL = (
    "UPDATE deliveries SET state = ?, last_reply = ?, sent_at = ?, lease_owner = '', "
    "lease_until = NULL WHERE id = ? AND state = ? AND lease_owner = ?"
)


class SentWriter:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
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
            if self._sqlite:
                # The connection is in autocommit mode (database.py); take the write lock
                # at once, so the busy timeout applies.
                cursor.execute("BEGIN IMMEDIATE")
            cursor.execute(
                self._sql, (SENT, reply, self._convert_at(at), delivery_id, SENDING, owner)
            )
            changed = cursor.rowcount
            if self._sqlite:
                cursor.execute("COMMIT")
            else:
                self._raw.commit()
            cursor.close()
        except Exception:
            self.close()
            raise
        return changed == 1

    def _connect(self) -> Any:
        return self.engine.raw_connection()

    def close(self) -> None:
        raw, self._raw = self._raw, None
        if raw is not None:
            with contextlib.suppress(Exception):
                raw.rollback()
            raw.close()
