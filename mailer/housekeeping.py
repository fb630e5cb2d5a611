"""Housekeeping that runs beside the workers: retention of delivery and tracking
records, once at start and then daily.

The command line starts it with the workers, because they are the process every
installation runs (`mailer run` has them as threads, production runs `mailer worker`).
Several workers doing it at once is harmless: purging is idempotent. What it purges is
listed in mailer.personal_data.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from mailer.config import Config
from mailer.database import Database, utcnow
from mailer.personal_data import retention_purges

log = logging.getLogger(__name__)

EVERY = timedelta(days=1)


def run_once(db: Database, config: Config) -> int:
    """Apply [retention] once; returns how many rows went (deliveries, tracking,
    queued messages, bounce records and their stored messages)."""
    keep = config.retention.deliveries
    removed: dict[str, int] = {}
    with db.writing() as session:
        now = utcnow()
        for what, purge in retention_purges(config).items():
            removed[what] = purge(session, now, keep)
    for what, count in removed.items():
        if count:
            log.info("retention removed %d %s older than %s", count, what, keep)
    return sum(removed.values())


def loop(db: Database, config: Config, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            run_once(db, config)
        except Exception:
            log.exception("housekeeping failed; trying again in a day")
        stop.wait(EVERY.total_seconds())


def start(db: Database, config: Config, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(
        target=loop, args=(db, config, stop), name="housekeeping", daemon=True
    )
    thread.start()
    return thread
