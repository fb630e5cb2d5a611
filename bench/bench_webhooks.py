"""Webhook benchmark: messages per second delivered to a receiver on loopback, and
what ``emit`` costs a service when no endpoint wants the event and when one does.

- emit: ``emit(session, "contact.unsubscribed", ...)`` called N times in one
  transaction (rolled back), with no endpoint, then with one endpoint wanting it; the
  median per call. With no endpoint it is one cheap query (the enabled endpoints);
  with one it adds a row to the caller's transaction.
- deliver: N messages queued, then one dispatcher (``mailer.events.dispatch``: claim
  under a lease, sign with standardwebhooks, POST over a new connection, log the
  attempt, commit) against a ``http.server`` on loopback answering 204; beside it the
  ceiling: the same signed POSTs over ``http.client`` with no database.

    .venv/bin/python bench/bench_webhooks.py [--messages 2000] [--emits 2000]

Measures only; never fails on a figure. SQLite, and PostgreSQL when the local server
answers.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from mailer import migrate  # noqa: E402
from mailer.accounts.second_factors.sealing import KeyRing  # noqa: E402
from mailer.config.sections import WebhooksSection  # noqa: E402
from mailer.database import Database  # noqa: E402
from mailer.events import catalogue, emit, endpoints, signing  # noqa: E402
from mailer.events.dispatch import Dispatcher  # noqa: E402
from mailer.events.models import WebhookEndpoint  # noqa: E402

PG_SERVER = os.environ.get(
    "MAILER_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
RING = KeyRing.of("bench-secret-key-" + "x" * 32)
SETTINGS = WebhooksSection(allow_private_addresses=True)
DATA = {"contact_id": 42, "email": "someone@example.org", "how": "one-click (mail client)"}


class _Quiet(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _emit_cost(db: Database, count: int, now: datetime) -> float:
    """Median microseconds per emit call, in a transaction rolled back after."""
    session = db.new_session()
    took = []
    try:
        for _ in range(count):
            start = time.perf_counter()
            emit.emit(session, catalogue.CONTACT_UNSUBSCRIBED, DATA, now=now)
            took.append((time.perf_counter() - start) * 1e6)
    finally:
        session.rollback()
        session.close()
    return statistics.median(took)


def bench(label: str, url: str, messages: int, emits: int) -> None:
    db = Database(url)
    migrate.upgrade(db)
    now = datetime.now(UTC)
    none = _emit_cost(db, emits, now)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    secret = endpoints.new_secret()
    with db.transaction() as session:
        session.add(
            WebhookEndpoint(
                name="bench", url=f"http://127.0.0.1:{port}/in",
                secret=RING.seal(secret, purpose=endpoints.SEAL_PURPOSE),
                events=" ".join(catalogue.EVENTS), enabled=True, created_at=now,
                disabled_reason="",
            )
        )  # fmt: skip
    one = _emit_cost(db, emits, now)
    with db.transaction() as session:
        for _ in range(messages):
            emit.emit(session, catalogue.CONTACT_UNSUBSCRIBED, DATA, now=now)
    dispatcher = Dispatcher(db, SETTINGS, RING)
    start = time.perf_counter()
    done = dispatcher.run_once()
    pipeline = done.delivered / (time.perf_counter() - start)
    # The ceiling: the same signed POSTs, a new connection each, no database.
    body = '{"data":{},"timestamp":"2026-12-02T00:00:00Z","type":"contact.unsubscribed"}'
    start = time.perf_counter()
    for number in range(messages):
        headers = signing.headers(
            secret=secret, message_id=f"msg_{number}", at=datetime.now(UTC), body=body
        )
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("POST", "/in", body=body.encode(), headers=headers)
        connection.getresponse().read()
        connection.close()
    ceiling = messages / (time.perf_counter() - start)
    server.shutdown()
    server.server_close()
    db.dispose()
    print(f"{label}:")
    print(f"  emit, no endpoint wants it   median {none:8.1f} us a call")
    print(f"  emit, one endpoint wants it  median {one:8.1f} us a call")
    print(
        f"  delivered {done.delivered:,} messages: {pipeline:,.0f} msg/s; ceiling (same POSTs, "
        f"no database) {ceiling:,.0f} msg/s; ratio {pipeline / ceiling:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--emits", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        bench("sqlite", f"sqlite:///{folder}/bench.db", args.messages, args.emits)
    name = f"mailer_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # no local server: SQLite only
        print(f"postgresql: skipped ({exc.__class__.__name__})")
        return
    try:
        base = PG_SERVER.rsplit("/", 1)[0]
        bench("postgresql", f"{base}/{name}", args.messages, args.emits)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
