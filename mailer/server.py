"""Serving the app with waitress (a production WSGI server, not Flask's debug one)."""

from __future__ import annotations

import logging
import signal
from types import FrameType

from flask import Flask
from waitress.server import create_server

log = logging.getLogger(__name__)

THREADS = 8


def serve(app: Flask, *, host: str, port: int) -> None:
    """Serve until SIGINT or SIGTERM, then return after closing the listening socket."""
    server = create_server(
        app,
        host=host,
        port=port,
        threads=THREADS,
        ident="stakeholder-mailer",
        # A reverse proxy on this machine (docs/operating.md) says who the visitor is;
        # anyone else's X-Forwarded-For is dropped. Only the visitor's address is taken
        # (for counting a repeat click once, in memory), never the host or scheme.
        trusted_proxy="127.0.0.1",
        trusted_proxy_count=1,
        trusted_proxy_headers={"x-forwarded-for"},
        clear_untrusted_proxy_headers=True,
    )

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, shutting down", signal.Signals(signum).name)
        server.close()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    url = f"http://{host}:{server.effective_port}"
    log.info("serving on %s", url)
    print(f"Stakeholder Mailer is running: open {url}/admin/ (Ctrl+C to stop)", flush=True)
    try:
        server.run()
    except OSError:
        # Closing the socket from the signal handler ends asyncore's loop this way.
        pass
    finally:
        log.info("stopped")
