"""The real waitress server with the product's limits: an oversized body is refused
before it is read, and slow or silent clients cannot keep /healthz from answering."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from mailer.app import create_app
from mailer.database import Database
from mailer.server import make_server
from tests.conftest import make_config


@contextmanager
def running(
    tmp_path: Path,
    db: Database,
    *,
    prepare: Callable[[Flask], Flask] | None = None,
    **app: Any,
) -> Iterator[int]:
    """The real waitress server on a free port, with ``[app]`` values; ``prepare`` may
    add to the app first."""
    flask_app = create_app(make_config(tmp_path, db.url, app=app, mail={"max_attachments_mb": 1}))
    if prepare is not None:
        flask_app = prepare(flask_app)
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


@pytest.mark.slow  # over a second: the fast loop leaves it to `make test`
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


@pytest.mark.slow
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
    # connection_limit's own test: the per-client cap (another test) is off here.
    with running(tmp_path, db, connections_per_client=0) as port:
        hanging = [socket.create_connection(("127.0.0.1", port)) for _ in range(110)]
        try:
            started = time.monotonic()
            reply = ask(port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", timeout=10)
            assert reply.startswith(b"HTTP/1.1 ")
            assert time.monotonic() - started < 3
        finally:
            for connection in hanging:
                connection.close()


def _closed_by_server(connection: socket.socket, *, within: float) -> bool:
    """True when the server closes the connection (EOF or reset) within ``within``
    seconds without answering; False when it is still open then. An answer fails."""
    connection.settimeout(within)
    try:
        data = connection.recv(4096)
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    assert data == b"", f"answered instead of closed: {data[:60]!r}"
    return True


@pytest.mark.slow
def test_a_request_trickled_a_line_at_a_time_is_closed_at_its_deadline(
    tmp_path: Path, db: Database
) -> None:
    with (
        running(tmp_path, db, request_timeout="2s") as port,
        socket.create_connection(("127.0.0.1", port), timeout=5) as connection,
    ):
        started = time.monotonic()
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        closed = False
        # A header line every half second never leaves the connection idle for
        # the 2 s timeout; only a deadline from its first byte ends it.
        for line in range(12):
            if _closed_by_server(connection, within=0.5):
                closed = True
                break
            try:
                connection.sendall(b"X-Trickle-%d: x\r\n" % line)
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
        elapsed = time.monotonic() - started
        # (Before the deadline existed, the request was still open after 6 s and,
        # once finished, answered.)
        assert closed, f"still open after {elapsed:.1f} s of trickling"
        assert elapsed < 5  # 2 s, plus a check every second, plus slack


def _from(address: str, port: int) -> socket.socket:
    # Linux answers on all of 127.0.0.0/8, so a test can be several clients.
    return socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(address, 0))


@pytest.mark.slow  # over a second: the fast loop leaves it to `make test`
def test_one_address_cannot_take_every_connection(tmp_path: Path, db: Database) -> None:
    with running(tmp_path, db, connections_per_client=5) as port:
        hogs = [_from("127.0.0.2", port) for _ in range(5)]
        try:
            extra = _from("127.0.0.2", port)
            with extra:
                assert _closed_by_server(extra, within=3), "the sixth connection was kept"
            # Every other address is still served while the five stay open.
            for address in ("127.0.0.3", "127.0.0.1"):
                with _from(address, port) as other:
                    other.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    assert other.recv(4096).startswith(b"HTTP/1.1 200")
            assert all(not _closed_by_server(hog, within=0.01) for hog in hogs)
        finally:
            for hog in hogs:
                hog.close()
        # Once they are closed the address may connect again.
        deadline = time.monotonic() + 5
        while True:
            with _from("127.0.0.2", port) as again:
                again.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                try:
                    reply = again.recv(4096)
                except ConnectionResetError:
                    reply = b""
            if reply or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert reply.startswith(b"HTTP/1.1 200")


def test_a_trusted_reverse_proxy_is_not_capped(tmp_path: Path, db: Database) -> None:
    # Behind a proxy every connection comes from its address (listed in
    # trusted_proxies): the per-client cap must not throttle it.
    with running(tmp_path, db, connections_per_client=5, trusted_proxies=["127.0.0.1"]) as port:
        proxied = [_from("127.0.0.1", port) for _ in range(8)]
        try:
            for connection in proxied:
                connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert all(c.recv(4096).startswith(b"HTTP/1.1 200") for c in proxied)
        finally:
            for connection in proxied:
                connection.close()
