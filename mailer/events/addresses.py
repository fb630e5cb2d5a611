"""Where a webhook may be sent: the URL rules that keep the admin from becoming a way
into the office's own network (server-side request forgery).

A URL is checked when it is saved and again before every attempt, because what a
name resolves to can change between the two (DNS rebinding). The attempt then
connects to the very address that was checked (``Target.address``), never resolving
the name a second time.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL = 2000

# host, port -> the addresses it resolves to (a seam: tests pass their own).
Resolver = Callable[[str, int], list[str]]


class UrlRefused(ValueError):
    """A URL this product will not send to; the message is the sentence a person reads."""


@dataclass(frozen=True)
class Target:
    """A checked URL, split into what a connection needs."""

    scheme: str
    host: str  # the name, for the Host header and TLS (SNI, certificate check)
    port: int
    path: str  # path and query, as sent in the request line
    address: str  # the checked address to connect to


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UrlRefused(f"The name {host} could not be found ({exc}).") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _private(text: str) -> str | None:
    """Why ``text`` (an IP address) is not a public address, or None."""
    ip = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv4 address carried inside IPv6 (mapped, 6to4, Teredo) is judged as itself:
        # 2002:7f00:1:: reaches 127.0.0.1 wherever a 6to4 relay is in the way.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            inner = _private(str(embedded))
            if inner is not None:
                return inner
            ip = embedded
    for flag, words in (
        ("is_loopback", "a loopback address"),
        ("is_unspecified", "an unspecified address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_private", "a private address"),
        ("is_reserved", "a reserved address"),
    ):
        if getattr(ip, flag):
            return words
    if not ip.is_global:
        return "not a public address"
    return None


def check(url: str, *, allow_private: bool, resolver: Resolver = system_resolver) -> Target:
    """The URL as a ``Target``, or ``UrlRefused`` saying why not."""
    url = url.strip()
    if not url:
        raise UrlRefused("Enter the endpoint's URL.")
    if len(url) > MAX_URL:
        raise UrlRefused(f"The URL is too long: at most {MAX_URL:,} characters.")
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise UrlRefused("The URL must not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRefused("That is not a valid URL.") from exc
    if parts.scheme not in ("http", "https"):
        raise UrlRefused("The URL must start with https://.")
    if parts.scheme != "https" and not allow_private:
        raise UrlRefused(
            "The URL must start with https:// (http:// is allowed only with "
            "[webhooks] allow_private_addresses)."
        )
    if parts.username is not None or parts.password is not None:
        raise UrlRefused(
            "The URL must not carry a user name or password: the signature proves who sent it."
        )
    host = parts.hostname
    if not host:
        raise UrlRefused("The URL has no host name.")
    if parts.fragment:
        raise UrlRefused("The URL must not have a #fragment.")
    port = port or (443 if parts.scheme == "https" else 80)
    addresses = resolver(host, port)
    if not addresses:
        raise UrlRefused(f"The name {host} could not be found.")
    if not allow_private:
        for address in addresses:
            why = _private(address)
            if why is not None:
                raise UrlRefused(
                    f"{host} resolves to {address}, {why}: webhooks go only to public "
                    "addresses (unless [webhooks] allow_private_addresses is on)."
                )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme=parts.scheme, host=host, port=port, path=path, address=addresses[0])
