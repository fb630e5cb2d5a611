"""The worker threads of one process: what they share and what each keeps."""

from __future__ import annotations

from pathlib import Path

from mailer.database import Database
from mailer.delivery import pool
from tests.delivery.helpers import smtp_config


def test_threads_share_the_prepared_messages_and_on_sqlite_the_outcome_writer(
    tmp_path: Path, db: Database
) -> None:
    workers = pool.workers(db, smtp_config(tmp_path, db, 25, connections=3))
    assert len(workers) == 3
    assert len({id(w.prepared) for w in workers}) == 1
    assert len({id(w.transport) for w in workers}) == 3  # a connection each
    writers = {id(w.sent_writer) for w in workers}
    # SQLite writes one at a time per process: one connection keeps its cache warm.
    # PostgreSQL's writes overlap each thread's SMTP: one connection per thread.
    assert len(writers) == (1 if db.is_sqlite else 3)
