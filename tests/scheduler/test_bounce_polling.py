"""The active scheduler reads the bounce mailbox every [bounces] poll (a real Dovecot);
a mailbox it cannot read is logged and never stops the scheduler."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from mailer.database import Database
from scheduler.runner import BOUNCES_JOB, Scheduler
from tests.bounces.conftest import _dovecot_server, imap_server
from tests.bounces.dovecot import Dovecot
from tests.bounces.test_mailbox import AFTER, author, fill, handed_over, mailbox_config, state

__all__ = ["_dovecot_server", "author", "handed_over", "imap_server"]


def test_the_active_scheduler_reads_the_mailbox_at_once_and_every_poll(
    db: Database, tmp_path: Path, imap_server: Dovecot, handed_over: int
) -> None:
    fill(imap_server)
    config = mailbox_config(tmp_path, db, imap_server, poll="10s")
    scheduler = Scheduler(db, config, sync_seconds=0.2)
    stop = threading.Event()
    thread = threading.Thread(target=scheduler.run, args=(stop,), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while imap_server.count("INBOX") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert imap_server.count("INBOX") == 0
        assert state(db) == AFTER
        assert scheduler._aps is not None
        assert scheduler._aps.get_job(BOUNCES_JOB) is not None  # still there after ticks
    finally:
        stop.set()
        thread.join(timeout=30)


def test_a_mailbox_that_refuses_us_is_logged_and_the_scheduler_carries_on(
    db: Database, tmp_path: Path, imap_server: Dovecot, caplog: pytest.LogCaptureFixture
) -> None:
    config = mailbox_config(tmp_path, db, imap_server, imap_password="wrong password")
    scheduler = Scheduler(db, config)
    scheduler.step()  # takes the lock and leads
    try:
        with caplog.at_level(logging.ERROR, logger="scheduler.runner"):
            assert scheduler.poll_bounces() is None
        assert "[bounces] imap_password" in caplog.text
        assert "wrong password" not in caplog.text
        scheduler.step()
        assert scheduler.leading
    finally:
        scheduler.step_down()


def test_no_mailbox_no_job(db: Database, tmp_path: Path) -> None:
    from tests.conftest import make_config

    scheduler = Scheduler(db, make_config(tmp_path, db.url))
    scheduler.step()
    try:
        assert scheduler._aps is not None
        assert scheduler._aps.get_job(BOUNCES_JOB) is None
    finally:
        scheduler.step_down()
