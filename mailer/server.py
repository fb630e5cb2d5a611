"""Serving the app with waitress (a production WSGI server, not Flask's debug one)."""

from __future__ import annotations

import logging
import signal
from types import FrameType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import Flask
from markupsafe import escape
from waitress.server import MultiSocketServer
from waitress.task import ErrorTask
from waitress.utilities import RequestEntityTooLarge

from mailer.client_limits import LimitedServer, create_limited_server
from mailer.config import Config
from mailer.web import errors
from mailer.web.redirects import safe_admin_path

log = logging.getLogger(__name__)

THREADS = 8
# A request body up to this many times [app] max_request_mb is read, so the app can
# answer an over-large upload with its form and the limit (mailer/web/errors.py);
# only a larger one is refused before it is read, with a short page of our own.
READ_BEYOND_LIMIT = 4


MAX_HEADER_BYTES = 64 * 1024


def make_server(app: Flask, *, host: str, port: int) -> LimitedServer | MultiSocketServer:
    """The waitress server, with the limits ``[app]`` sets, not waitress's defaults: a
    body larger than max_request_mb is answered 413 by the app, which sends the person
    back to their form with the limit stated, and one over READ_BEYOND_LIMIT times it as
    soon as its headers say so, before it is read (UploadTooLarge); a connection idle
    for request_timeout, or that has not sent a whole request within request_timeout of
    its first byte, is closed (checked every few seconds); one address may hold
    connections_per_client connections at once.
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
        max_request_body_size=config.max_request_bytes * READ_BEYOND_LIMIT,
        error_task=UploadTooLarge.for_limit(config.mail.max_attachments_mb * 1024 * 1024),
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


class UploadTooLarge(ErrorTask):
    """The answer to a request refused before it is read: for one too large, a page
    saying the file's size and the limit, with a way back to the form; waitress's plain
    text for anything else (a malformed request)."""

    file_limit = 0

    @classmethod
    def for_limit(cls, file_limit: int) -> type[UploadTooLarge]:
        return type("UploadTooLargeAnswer", (cls,), {"file_limit": file_limit})

    def execute(self) -> None:
        # The stubs (types-waitress) type the request loosely: it is waitress's parser.
        request: Any = self.request
        if not isinstance(request.error, RequestEntityTooLarge):
            super().execute()
            return
        headers = request.headers
        size = int(headers.get("CONTENT_LENGTH", "0") or 0)
        referrer = urlsplit(headers.get("REFERER", ""))
        back = (
            safe_admin_path(urlunsplit(("", "", referrer.path, referrer.query, "")))
            if referrer.netloc and referrer.netloc == headers.get("HOST")
            else None
        )
        link = f'<p><a href="{escape(back)}">Go back to the form</a></p>' if back else ""
        body = (
            '<!doctype html><html lang="en-GB"><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>That upload is too large</title><h1>That upload is too large</h1>"
            f"<p>{escape(errors.too_large(size, self.file_limit))}</p>{link}"
        ).encode()
        self.status = "413 Request Entity Too Large"
        response_headers: list[tuple[str, str]] = self.response_headers  # type: ignore[assignment]
        response_headers.extend(
            [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))]
        )
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


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
