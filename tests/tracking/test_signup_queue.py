"""A slow relay cannot hold anyone up: sign-up confirmations are queued by the request
(which answers at once) and sent by the delivery workers, outside any write lock."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, update

from mailer.database import Database
from mailer.delivery import pool
from mailer.delivery.models import QueuedMessage
from mailer.tracking.models import SignUp
from tests.smtp_server import FaultySmtp
from tests.tracking.conftest import relay_app
from tests.tracking.helpers import launched
from tests.tracking.test_signups import BROWSER, page_through, register

SLOW = 1.5  # seconds the relay waits before each reply (MAIL, RCPT, DATA)


@pytest.fixture
def smtp_app(tmp_path: Path, db: Database, server: FaultySmtp) -> Iterator[Flask]:
    # The relay answers slowly on purpose: give it time.
    app = relay_app(tmp_path, db, server, timeout="20s")
    yield app
    app.extensions["mailer.db"].dispose()


@pytest.mark.slow
def test_sign_ups_answer_at_once_while_a_slow_relay_is_being_talked_to(
    smtp_app: Flask, db: Database, server: FaultySmtp
) -> None:
    _cid, messages = launched(smtp_app, db, server)
    clients = [smtp_app.test_client() for _ in range(6)]
    for client in clients:
        client.environ_base["HTTP_USER_AGENT"] = BROWSER
    pages = [
        page_through(client, messages[f"partner{n}@example.org"].share)
        for n, client in enumerate(clients)
    ]
    server.received.clear()
    server.delay = SLOW
    answers: list[tuple[int, float]] = []

    def sign_up(n: int) -> None:
        started = time.monotonic()
        status = register(clients[n], pages[n], email=f"person{n}@example.org").status_code
        answers.append((status, time.monotonic() - started))

    # Five people at once, as in the probe that made others fail with "database is locked".
    threads = [threading.Thread(target=sign_up, args=(n,)) for n in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in answers] == [200] * 5
    assert max(seconds for _, seconds in answers) < SLOW, answers
    assert server.received == []  # nothing talked to the relay yet

    # A worker talks to the slow relay; meanwhile others still write without waiting.
    worker = threading.Thread(
        target=pool.run_once, args=(db, smtp_app.config["MAILER"]), daemon=True
    )
    worker.start()
    while not server.connections:
        time.sleep(0.05)
    started = time.monotonic()
    assert register(clients[5], pages[5], email="meanwhile@example.org").status_code == 200
    with db.writing() as session:
        session.execute(update(SignUp).values(name=SignUp.name))
    assert time.monotonic() - started < SLOW
    server.delay = 0  # the point is made; the rest goes quickly
    worker.join(timeout=120)
    pool.run_once(db, smtp_app.config["MAILER"])  # whatever came in after its claim
    arrived = sorted(r.recipients[0] for r in server.received)
    assert arrived == sorted(
        [f"person{n}@example.org" for n in range(5)] + ["meanwhile@example.org"]
    )
    with db.transaction() as session:
        states = set(session.scalars(select(QueuedMessage.state)))
        kept = set(session.scalars(select(QueuedMessage.data)))
    assert states == {"sent"}
    assert kept == {b""}  # once sent, the copy of the message is not kept
