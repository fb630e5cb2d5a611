"""Who the visitor is: the peer's address, or what a trusted reverse proxy says.

The client address feeds the limits on the public forms and on signing in, so a
visitor must not choose it. ``X-Forwarded-For`` is believed only from the addresses in
``[app] trusted_proxies`` (none by default: ``mailer run`` serves browsers directly),
and only the entries those proxies appended: reading from the right, each entry
added by a trusted hop names the next hop, and the first address that is not a
trusted proxy is the visitor. Whatever a visitor wrote further left is ignored. From
anyone else the header is dropped before the app sees it.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from typing import Any

from flask import Flask

log = logging.getLogger(__name__)

_OTHER_PROXY_HEADERS = (
    "HTTP_FORWARDED",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_BY",
)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(text: str) -> Address | None:
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def client_address(peer: str, forwarded: str | None, trusted: frozenset[Address]) -> str:
    """The visitor's address, given the peer's and its ``X-Forwarded-For`` header."""
    current = _address(peer)
    if current is None or forwarded is None:
        return peer
    hops = [hop for hop in forwarded.split(",") if hop.strip()]
    while current in trusted and hops:
        previous = _address(hops.pop())
        if previous is None:
            # A trusted proxy wrote something that is not an address: believe no more.
            break
        current = previous
    return str(current)


class TrustedProxies:
    """WSGI middleware setting ``REMOTE_ADDR`` to the visitor's address."""

    def __init__(self, wsgi_app: Any, trusted: Iterable[str]) -> None:
        self.wsgi_app = wsgi_app
        self.trusted = frozenset(ip for ip in map(_address, trusted) if ip is not None)
        self._warned = False

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        forwarded = environ.pop("HTTP_X_FORWARDED_FOR", None)
        for other in _OTHER_PROXY_HEADERS:
            # Never read by the app; dropped so that nothing added later trusts them.
            environ.pop(other, None)
        peer = environ.get("REMOTE_ADDR") or ""
        if forwarded is not None:
            peer_ip = _address(peer)
            if peer_ip in self.trusted:
                environ["REMOTE_ADDR"] = client_address(peer, forwarded, self.trusted)
            elif peer_ip is not None and peer_ip.is_loopback and not self._warned:
                # Most likely a proxy on this machine that nobody said to trust: every
                # visitor then counts as one, and the limits bind them all together.
                self._warned = True
                log.warning(
                    "X-Forwarded-For from %s ignored: it is not in [app] trusted_proxies "
                    "(see docs/operating.md, Behind a reverse proxy)",
                    peer,
                )
        return self.wsgi_app(environ, start_response)


def init_app(app: Flask) -> None:
    config = app.config["MAILER"]
    # Wrapping wsgi_app is Flask's documented way to add middleware; mypy sees a method.
    app.wsgi_app = TrustedProxies(app.wsgi_app, config.app.trusted_proxies)  # type: ignore[method-assign]
