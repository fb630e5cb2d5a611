"""The real waitress server with the product's limits: an oversized body is refused
before it is read, and slow or silent clients cannot keep /healthz from answering."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mailer.app import create_app
from mailer.database import Database
from mailer.server import make_server
from tests.conftest import make_config


@contextmanager
def running(tmp_path: Path, db: Database, **app: Any) -> Iterator[int]:
    flask_app = create_app(make_config(tmp_path, db.url, app=app, mail={"max_attachments_mb": 1}))
    server = make_server(flask_app, host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield server.effective_port
    finally:
        server.close()
        thread.join(timeout=5)
        flask_app.extensions["mailer.db"].dispose()


def ask(port: int, request: bytes, *, timeout: float = 10) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(request)
        return connection.recv(4096)


def test_an_oversized_body_is_refused_before_it_is_read(tmp_path: Path, db: Database) -> None:
    with running(tmp_path, db) as port:
        started = time.monotonic()
        # 500 MB announced, a few bytes sent: the answer must not wait for the rest.
        reply = ask(
            port,
            b"POST /consultations/x/register HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 524288000\r\n\r\nemail=a",
        )
        assert reply.startswith(b"HTTP/1.1 413")
        assert time.monotonic() - started < 3


def test_idle_and_half_sent_connections_do_not_stop_healthz(tmp_path: Path, db: Database) -> None:
    with running(tmp_path, db, connection_limit=10, request_timeout="2s") as port:
        # As many half-sent requests as the limit allows: they are closed after the
        # timeout, and /healthz answers.
        hanging = [socket.create_connection(("127.0.0.1", port)) for _ in range(10)]
        for connection in hanging:
            connection.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        started = time.monotonic()
        reply = ask(port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", timeout=15)
        assert reply.startswith(b"HTTP/1.1 200")
        assert time.monotonic() - started < 8
        # The server itself closed the half-sent ones (waitress's default: 2 minutes).
        hanging[0].settimeout(8)
        assert hanging[0].recv(4096) == b""
        for connection in hanging:
            connection.close()


def test_more_half_open_connections_than_waitress_allows_by_default(
    tmp_path: Path, db: Database
) -> None:
    with running(tmp_path, db) as port:
        hanging = [socket.create_connection(("127.0.0.1", port)) for _ in range(110)]
        try:
            started = time.monotonic()
            reply = ask(port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", timeout=10)
            assert reply.startswith(b"HTTP/1.1 ")
            assert time.monotonic() - started < 3
        finally:
            for connection in hanging:
                connection.close()
