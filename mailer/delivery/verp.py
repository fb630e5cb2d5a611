"""The bounce address that names its delivery (VERP), and the mailto: unsubscribe
address beside the https one.

With ``[bounces] address = "bounces@example.org"``, the envelope sender of delivery
1234 of send 7 is ``bounces+d2ei-7-<mac>@example.org``: a bounce comes back to that
address, and the token names the delivery even when the bounce itself is mangled. It
names the send too: retention deletes a finished send's delivery rows and keeps only its
counts, and a bounce arriving after that must still find the counts it corrects. The
token is signed (an HMAC of the secret key), so a forged bounce cannot name a delivery
it guesses, and it is lower case and short: some servers fold the case of local parts,
and a local part may hold 64 characters. A token without the send (``d2ei-<mac>``) is
read too.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

BOUNCE = "d"  # a delivery's envelope sender: a bounce of that delivery
UNSUBSCRIBE = "u"  # a mailto: List-Unsubscribe: stop mail to that delivery's contact
_PURPOSES = (BOUNCE, UNSUBSCRIBE)
_MAC_LENGTH = 16  # hex characters: 64 bits
_TOKEN = re.compile(r"([du])([0-9a-z]{1,13})(?:-([0-9a-z]{1,13}))?-([0-9a-f]{16})")
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Token:
    purpose: str  # BOUNCE or UNSUBSCRIBE
    delivery_id: int
    send_id: int | None = None  # None: a token made without it


def _base36(number: int) -> str:
    if number < 0:
        raise ValueError("a delivery id is never negative")
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = _DIGITS[rest] + digits
        if not number:
            return digits


def _mac(key: str, purpose: str, delivery_id: int, send_id: int | None) -> str:
    signed = f"stakeholder-mailer.verp:{purpose}:{delivery_id}"
    if send_id is not None:
        signed = f"{signed}:{send_id}"
    message = signed.encode("ascii")
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()[:_MAC_LENGTH]


def make_token(
    purpose: str, delivery_id: int, *, keys: Sequence[str], send_id: int | None = None
) -> str:
    """The signed token for ``delivery_id`` (of ``send_id``, when given), with the
    newest key (``keys[0]``)."""
    if purpose not in _PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    mac = _mac(keys[0], purpose, delivery_id, send_id)
    if send_id is None:
        return f"{purpose}{_base36(delivery_id)}-{mac}"
    return f"{purpose}{_base36(delivery_id)}-{_base36(send_id)}-{mac}"


def read_token(token: str, *, keys: Sequence[str]) -> Token | None:
    """The delivery a token names, or None when it is not one of ours (checked against
    every key, so tokens in messages sent before a key rotation still count)."""
    match = _TOKEN.fullmatch(token.strip().lower())
    if match is None:
        return None
    purpose, digits, send_digits, mac = match.groups()
    delivery_id = int(digits, 36)
    send_id = int(send_digits, 36) if send_digits is not None else None
    for key in keys:
        if hmac.compare_digest(_mac(key, purpose, delivery_id, send_id), mac):
            return Token(purpose, delivery_id, send_id)
    return None


def address_with(base: str, token: str) -> str:
    """``bounces@example.org`` with ``token``: ``bounces+TOKEN@example.org``."""
    local, _, domain = base.rpartition("@")
    return f"{local}+{token}@{domain}"


def envelope_sender(
    base: str, delivery_id: int, *, keys: Sequence[str], send_id: int | None = None
) -> str:
    return address_with(base, make_token(BOUNCE, delivery_id, keys=keys, send_id=send_id))


class EnvelopeSenders:
    """``envelope_sender`` for one bounce address, with what does not change from one
    message to the next (the address's parts, the keyed HMAC) worked out once: the
    delivery workers ask for one per message."""

    def __init__(self, base: str, *, keys: Sequence[str]) -> None:
        local, _, domain = base.rpartition("@")
        self._prefix = f"{local}+{BOUNCE}"
        self._suffix = f"@{domain}"
        self._keyed = hmac.new(keys[0].encode("utf-8"), digestmod=hashlib.sha256)
        self._signed = f"stakeholder-mailer.verp:{BOUNCE}:"

    def __call__(self, delivery_id: int, send_id: int) -> str:
        mac = self._keyed.copy()
        mac.update(f"{self._signed}{delivery_id}:{send_id}".encode("ascii"))
        digest = mac.hexdigest()[:_MAC_LENGTH]
        return f"{self._prefix}{_base36(delivery_id)}-{_base36(send_id)}-{digest}{self._suffix}"


def unsubscribe_mailto(
    base: str, delivery_id: int, *, keys: Sequence[str], send_id: int | None = None
) -> str:
    """The mailto: URL of a List-Unsubscribe header (RFC 2369)."""
    address = address_with(base, make_token(UNSUBSCRIBE, delivery_id, keys=keys, send_id=send_id))
    return f"mailto:{address}?subject=unsubscribe"


def token_in(addresses: Iterable[str], base: str) -> str:
    """The token of the first of ``addresses`` that is ``base`` with a token in it, or
    "" (compared without regard to case; angle brackets and names are ignored)."""
    local, _, domain = base.lower().rpartition("@")
    if not local:
        return ""
    pattern = re.compile(
        rf"(?<![\w.+-]){re.escape(local)}\+([0-9a-z-]{{1,45}})@{re.escape(domain)}\b"
    )
    for address in addresses:
        match = pattern.search(address.lower())
        if match:
            return match.group(1)
    return ""
