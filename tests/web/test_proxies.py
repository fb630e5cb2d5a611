"""A visitor cannot choose the address they are counted by: X-Forwarded-For is read
only from [app] trusted_proxies (nobody by default), through the real server too."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request

from mailer.app import create_app
from mailer.config import ConfigError
from mailer.database import Database
from tests.config.test_loading import refused
from tests.conftest import make_config
from tests.test_server import running as serving


def _seeing(flask_app: Flask) -> Flask:
    # A page that shows the address the app counts by: what every limit reads.
    flask_app.add_url_rule("/whoami", "whoami", lambda: request.remote_addr or "")
    return flask_app


@contextmanager
def running(tmp_path: Path, db: Database, **app: Any) -> Iterator[int]:
    with serving(tmp_path, db, prepare=_seeing, **app) as port:
        yield port


def seen_as(port: int, forwarded: str) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(
            b"GET /whoami HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            + f"X-Forwarded-For: {forwarded}\r\n\r\n".encode()
        )
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    return body.decode()


def test_a_forged_header_from_this_machine_is_ignored_by_default(
    tmp_path: Path, db: Database
) -> None:
    # A local TCP forwarder passing the visitor's bytes on, or a proxy that keeps the
    # visitor's header: the peer is 127.0.0.1, the header the visitor's own.
    with running(tmp_path, db) as port:
        assert seen_as(port, "203.0.113.9") == "127.0.0.1"


@pytest.mark.slow  # over a second: the fast loop leaves it to `make test`
def test_a_trusted_proxy_names_the_visitor_and_only_its_own_entry_counts(
    tmp_path: Path, db: Database
) -> None:
    with running(tmp_path, db, trusted_proxies=["127.0.0.1"]) as port:
        assert seen_as(port, "203.0.113.9") == "203.0.113.9"
        # The visitor wrote the left entry; the proxy appended the right one.
        assert seen_as(port, "198.51.100.1, 203.0.113.9") == "203.0.113.9"
        assert seen_as(port, "not an address") == "127.0.0.1"


def test_forged_headers_from_an_untrusted_peer_are_dropped(tmp_path: Path, db: Database) -> None:
    flask_app = _seeing(
        create_app(make_config(tmp_path, db.url, app={"trusted_proxies": ["10.0.0.2", "::1"]}))
    )
    client = flask_app.test_client()

    def whoami(peer: str, forwarded: str) -> str:
        return client.get(
            "/whoami",
            environ_base={"REMOTE_ADDR": peer},
            headers={"X-Forwarded-For": forwarded},
        ).get_data(as_text=True)

    try:
        assert whoami("192.0.2.7", "203.0.113.9") == "192.0.2.7"
        assert whoami("10.0.0.2", "203.0.113.9") == "203.0.113.9"
        # Two trusted proxies in a row: the first untrusted address from the right.
        assert whoami("::1", "198.51.100.1, 203.0.113.9, 10.0.0.2") == "203.0.113.9"
    finally:
        flask_app.extensions["mailer.db"].dispose()


@pytest.mark.parametrize(
    "value, reason",
    [('"127.0.0.1"', "expected a list of IP addresses"), ('["nginx"]', "expected IP addresses")],
)
def test_trusted_proxies_must_be_ip_addresses(tmp_path: Path, value: str, reason: str) -> None:
    error = refused(f"[app]\ntrusted_proxies = {value}\n", tmp_path)
    assert isinstance(error, ConfigError)
    assert error.key == "[app] trusted_proxies"
    assert reason in error.reason
