"""Real `mailer worker` processes: killed mid-send and restarted, and three at once on
one PostgreSQL database. Nobody is lost; nobody gets the message twice, except a
message that was on the wire when its worker died, and that one keeps its Message-ID."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mailer.accounts.models import User
from mailer.database import Database, utcnow
from mailer.delivery.models import SENT, Delivery
from tests.cli_helpers import mailer_env, run_mailer
from tests.conftest import TEST_SECRET
from tests.delivery.helpers import make_send
from tests.smtp_server import smtp_server

pytestmark = pytest.mark.slow

CONNECTIONS = 2


def write_config(tmp_path: Path, db: Database, port: int) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[app]
database_url = "{db.url}"
secret_key = "{TEST_SECRET}"
instance_dir = "{tmp_path / "instance"}"

[mail]
transport = "smtp"
from_address = "news@pcc.example.org"

[smtp]
host = "127.0.0.1"
port = {port}
security = "none"
connections = {CONNECTIONS}
lease = "10s"
""",
        encoding="utf-8",
    )
    return path


def start_worker(config: Path, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mailer", "--config", str(config), "worker"],
        cwd=cwd,
        env=mailer_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def sent_count(db: Database, send_id: int) -> int:
    with db.transaction() as session:
        return session.scalar(
            select(func.count()).where(Delivery.send_id == send_id, Delivery.state == SENT)
        )


def wait_for(condition, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.1)


def message_ids(server) -> Counter[str]:  # type: ignore[no-untyped-def]
    return Counter(
        BytesParser(policy=policy.default).parsebytes(r.data)["Message-ID"] for r in server.received
    )


def test_sigkill_mid_send_then_restart_loses_nobody(
    tmp_path: Path, db: Database, admin_user: User
) -> None:
    addresses = [f"p{n}@example.org" for n in range(60)]
    send_id = make_send(db, addresses=addresses, author=admin_user, now=utcnow())
    with smtp_server() as server:
        server.delay = 0.02  # slow replies, so the kill lands mid-conversation
        config = write_config(tmp_path, db, server.port)
        first = start_worker(config, tmp_path)
        try:
            wait_for(lambda: len(server.received) >= 15)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        assert len(server.received) < len(addresses), "the kill came too late to test"
        time.sleep(11)  # the dead worker's leases run out
        done = run_mailer("--config", str(config), "worker", "--once", cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.strip().startswith("sent=")

        received = Counter(r.recipients[0] for r in server.received)
        assert set(received) == set(addresses)  # nobody lost
        repeats = [a for a, n in received.items() if n > 1]
        # Only a message in flight when the worker died can come twice: at most one per
        # connection, and always with its own Message-ID.
        assert len(repeats) <= CONNECTIONS
        ids = message_ids(server)
        assert len(ids) == len(addresses)
        assert sum(ids.values()) == len(server.received)
    assert sent_count(db, send_id) == len(addresses)


def test_three_worker_processes_send_each_message_exactly_once(
    tmp_path: Path, db: Database, admin_user: User
) -> None:
    if db.is_sqlite:
        pytest.skip("several workers on several machines need PostgreSQL (docs/operating.md)")
    addresses = [f"p{n}@example.org" for n in range(300)]
    send_id = make_send(db, addresses=addresses, author=admin_user, now=utcnow())
    with smtp_server() as server:
        config = write_config(tmp_path, db, server.port)
        workers = [start_worker(config, tmp_path) for _ in range(3)]
        try:
            wait_for(lambda: sent_count(db, send_id) == len(addresses), timeout=120)
        finally:
            for process in workers:
                process.send_signal(signal.SIGTERM)
            outputs = [process.communicate(timeout=60)[0] for process in workers]
        assert all(p.returncode == 0 for p in workers), outputs
        received = Counter(r.recipients[0] for r in server.received)
        assert received == Counter({a: 1 for a in addresses})
        with db.transaction() as session:
            owners = session.scalars(select(Delivery.attempts).where(Delivery.send_id == send_id))
            assert set(owners) == {1}
