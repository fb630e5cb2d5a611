"""Serving the app with waitress (a production WSGI server, not Flask's debug one)."""

from __future__ import annotations

import logging
import signal
from types import FrameType

from flask import Flask
from waitress.server import MultiSocketServer

from mailer.client_limits import LimitedServer, create_limited_server
from mailer.config import Config

log = logging.getLogger(__name__)

THREADS = 8


MAX_HEADER_BYTES = 64 * 1024


def make_server(app: Flask, *, host: str, port: int) -> LimitedServer | MultiSocketServer:
    """The waitress server, with the limits ``[app]`` sets, not waitress's defaults: a
    body larger than max_request_mb is answered 413 as soon as its headers say so,
    before it is read; a connection idle for request_timeout, or that has not sent a
    whole request within request_timeout of its first byte, is closed (checked every
    few seconds); one address may hold connections_per_client connections at once.
    So slow, silent or many clients cannot fill connection_limit and leave /healthz
    unanswered (mailer.client_limits)."""
    config: Config = app.config["MAILER"]
    timeout = max(1, int(config.app.request_timeout.total_seconds()))
    return create_limited_server(
        app,
        per_client=config.app.connections_per_client,
        # A proxy the operator trusts carries everyone's connections: not one client.
        exempt=frozenset(config.app.trusted_proxies),
        host=host,
        port=port,
        threads=THREADS,
        ident="stakeholder-mailer",
        max_request_body_size=config.max_request_bytes,
        max_request_header_size=MAX_HEADER_BYTES,
        connection_limit=config.app.connection_limit,
        channel_timeout=timeout,
        # How late past the timeout a connection may be closed.
        cleanup_interval=max(1, min(5, timeout // 4)),
        # poll(), not select(): select() cannot watch more than 1,024 sockets.
        asyncore_use_poll=True,
        # X-Forwarded-For is passed to the app, which reads it only from [app]
        # trusted_proxies and drops it from anyone else (mailer.web.proxies).
        clear_untrusted_proxy_headers=False,
    )


def serve(app: Flask, *, host: str, port: int) -> None:
    """Serve until SIGINT or SIGTERM, then return after closing the listening socket."""
    server = make_server(app, host=host, port=port)

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, shutting down", signal.Signals(signum).name)
        server.close()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    url = f"http://{host}:{_port(server)}"
    log.info("serving on %s", url)
    print(f"Stakeholder Mailer is running: open {url}/admin/ (Ctrl+C to stop)", flush=True)
    try:
        server.run()
    except OSError:
        # Closing the socket from the signal handler ends asyncore's loop this way.
        pass
    finally:
        log.info("stopped")


def _port(server: LimitedServer | MultiSocketServer) -> int:
    """The port it listens on (one host name may give several listeners, one port)."""
    if isinstance(server, MultiSocketServer):
        return server.effective_listen[0][1]
    return server.effective_port
