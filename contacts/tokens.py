"""Signed tokens for the links in every message: unsubscribe and preferences.

They carry the contact, its link key (for unsubscribe, the send too) and are signed with
itsdangerous without an expiry: a bulletin read a year late must still let its reader
leave. They are checked against the current secret key and every old one, so the key
can be rotated. A token for one purpose is useless for another (each has its salt).

The payload is ``[contact_id, send_id, "link_key"]`` (no send for preferences). The
key is random per contact, so a token acts only on the person it was made for, even if
that person is erased and their id were ever given to someone else (contacts.link_owner
checks it). Tokens made before keys existed carry ids alone; link_owner accepts those
only where it can prove whose they are.
"""

from __future__ import annotations

import base64
import functools
import hmac
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from mailer.instance import MIN_KEY_LENGTH

UNSUBSCRIBE = "unsubscribe"
PREFERENCES = "preferences"


# What new_link_key makes (contacts.models), and nothing JSON would have to escape.
_KEY = re.compile(r"[A-Za-z0-9_-]{8,32}")


@dataclass(frozen=True)
class LinkToken:
    contact_id: int
    send_id: int | None
    key: str | None = None  # None: a token made before tokens carried the contact's key


def _serializer(purpose: str, secret_keys: Sequence[str]) -> URLSafeSerializer:
    return _cached_serializer(purpose, tuple(secret_keys))


@functools.lru_cache(maxsize=32)
def _cached_serializer(purpose: str, secret_keys: tuple[str, ...]) -> URLSafeSerializer:
    if not secret_keys or any(len(key) < MIN_KEY_LENGTH for key in secret_keys):
        # A link signed with an empty or short key could be forged by anyone.
        raise ValueError(
            f"refusing to sign or check links with a secret key of fewer than "
            f"{MIN_KEY_LENGTH} characters"
        )
    # Ours are newest first; itsdangerous signs with the *last* of its list and tries
    # them all when checking, so the list is turned round. Kept, because a send makes
    # two tokens per recipient.
    return URLSafeSerializer(list(reversed(secret_keys)), salt=f"stakeholder-mailer.{purpose}")


@functools.lru_cache(maxsize=32)
def _signing(purpose: str, secret_keys: tuple[str, ...]) -> tuple[hmac.HMAC, bytes]:
    """An HMAC already keyed with the serializer's derived key, and its separator.
    itsdangerous derives the key and builds the HMAC again for every token; a send makes
    two per recipient, so the keyed HMAC is made once and copied. The token is byte for
    byte what ``URLSafeSerializer.dumps`` makes (tests/contacts/test_tokens.py checks it)."""
    signer = _cached_serializer(purpose, secret_keys).make_signer()
    algorithm = signer.algorithm
    keyed = hmac.new(signer.derive_key(), digestmod=algorithm.digest_method)  # type: ignore[attr-defined]
    return keyed, signer.sep


def secret_keys(app_config: Mapping[str, Any]) -> list[str]:
    """The keys links are signed and checked with, newest first, from a Flask app's
    config (``app.config``). Processes without an app use
    ``mailer.delivery.worker.secret_keys_for``, which gives the same list."""
    return [app_config["SECRET_KEY"], *app_config["MAILER"].app.old_secret_keys]


def make(
    purpose: str,
    *,
    contact_id: int,
    key: str | None,
    send_id: int | None = None,
    keys: Sequence[str],
) -> str:
    """A token for ``contact_id`` with its link key. ``key=None`` makes the older
    keyless form, which only tests of links already in mailboxes should want."""
    keyed, sep = _signing(purpose, tuple(keys))
    value = (
        _payload(contact_id, send_id) if key is None else _keyed_payload(contact_id, send_id, key)
    )
    mac = keyed.copy()
    mac.update(value)
    return (value + sep + _b64(mac.digest())).decode("ascii")


def _b64(data: bytes) -> bytes:
    """itsdangerous's base64_encode for bytes, without its type checks."""
    return base64.urlsafe_b64encode(data).rstrip(b"=")


# zlib adds six bytes of its own and deflate at least two: the shortest list of ids it
# makes shorter is 14 bytes ("[111111111111]"), so below 12 it is not worth asking.
_MIN_COMPRESSIBLE = 12


def _payload(contact_id: int, send_id: int | None) -> bytes:
    """What ``URLSafeSerializer.dump_payload`` makes of ``[contact_id(, send_id)]``:
    compact JSON, zlib-compressed only when that is shorter, URL-safe base64. Written
    out because itsdangerous's general JSON encoder was a third of a token's cost."""
    ids = (contact_id,) if send_id is None else (contact_id, send_id)
    if not all(type(n) is int for n in ids):
        raise TypeError("token payloads are whole numbers")
    data = ("[" + ",".join(map(str, ids)) + "]").encode("ascii")
    if len(data) >= _MIN_COMPRESSIBLE:
        compressed = zlib.compress(data)
        if len(compressed) < len(data) - 1:
            return b"." + _b64(compressed)
    return _b64(data)


def _keyed_payload(contact_id: int, send_id: int | None, key: str) -> bytes:
    """``[contact_id(, send_id), "key"]`` as compact JSON in URL-safe base64, never
    compressed: itsdangerous would compress only a payload with long repeats, which a
    random key all but rules out, and asking zlib costs more than the rest of the token.
    Its ``loads`` reads either form, so every token stays readable by itsdangerous."""
    if type(contact_id) is not int or (send_id is not None and type(send_id) is not int):
        raise TypeError("token ids are whole numbers")
    if not _KEY.fullmatch(key):
        raise ValueError("a link key is 8 to 32 URL-safe characters")
    ids = str(contact_id) if send_id is None else f"{contact_id},{send_id}"
    return _b64(f'[{ids},"{key}"]'.encode("ascii"))


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def read(purpose: str, token: str, *, keys: Sequence[str]) -> LinkToken | None:
    """The token's contents, or None for anything forged, altered or malformed."""
    if not token or len(token) > 200:
        return None
    try:
        payload = _serializer(purpose, keys).loads(token)
    except BadSignature:
        return None
    if not isinstance(payload, list) or not 1 <= len(payload) <= 3:
        return None
    key = None
    if isinstance(payload[-1], str):
        key = payload.pop()
        if not _KEY.fullmatch(key):
            return None
    if not 1 <= len(payload) <= 2 or not all(_is_id(x) for x in payload):
        return None
    return LinkToken(payload[0], payload[1] if len(payload) == 2 else None, key)
