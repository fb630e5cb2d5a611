"""DKIM signing (RFC 6376), relaxed/relaxed, with the RSA step done by OpenSSL.

dkimpy signs in pure Python at about 10 ms a message; the ``cryptography`` package does
the same RSA signature in well under a millisecond. The body hash is fed segment by
segment, so a prepared send canonicalises its fixed parts once (see ``prepare``).
dkimpy's verifier checks our signatures in the tests.

List-Unsubscribe and List-Unsubscribe-Post are signed: mailbox providers honour one-click
unsubscribe only when they are (dkimpy leaves the latter out by default); so is
Feedback-ID, which Gmail reads only when signed. The headers a reader trusts are
oversigned (RFC 6376 section 8.15): named once more in h= than the message has them,
so a second copy added in transit (a Subject, a List-Unsubscribe) breaks the signature
rather than being shown beside a valid one.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

SIGNED_HEADERS = (
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "reply-to",
    "list-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "precedence",
    "auto-submitted",
    "x-auto-response-suppress",
    "feedback-id",
    "mime-version",
    "content-type",
)
OVERSIGNED = (
    "from",
    "subject",
    "to",
    "date",
    "message-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
)
_WSP = re.compile(rb"[ \t]+")
_TRAILING_WSP = re.compile(rb"[ \t]+\r\n")


class DkimKeyError(Exception):
    """The configured private key cannot be used; the message says why."""


def canonical_body_segment(segment: bytes) -> bytes:
    """Relaxed body canonicalisation of whole lines (``segment`` ends with CRLF)."""
    return _WSP.sub(b" ", _TRAILING_WSP.sub(b"\r\n", segment))


def canonical_header(line: bytes) -> bytes:
    """Relaxed header canonicalisation of one raw header line (name: value CRLF)."""
    name, _, value = line.partition(b":")
    value = value.replace(b"\r\n", b"")
    value = _WSP.sub(b" ", value).strip(b" \t")
    return name.strip().lower() + b":" + value + b"\r\n"


class DkimSigner:
    def __init__(self, *, domain: str, selector: str, private_key: bytes) -> None:
        try:
            key = serialization.load_pem_private_key(private_key, password=None)
        except (ValueError, TypeError) as exc:
            raise DkimKeyError(f"not a PEM private key without a passphrase ({exc})") from None
        if isinstance(key, rsa.RSAPrivateKey):
            if key.key_size < 1024:
                raise DkimKeyError("an RSA key needs at least 1024 bits (2048 is usual)")
            self.algorithm = "rsa-sha256"
        elif isinstance(key, ed25519.Ed25519PrivateKey):
            self.algorithm = "ed25519-sha256"
        else:
            raise DkimKeyError("use an RSA or Ed25519 key")
        self._key = key
        self.domain = domain
        self.selector = selector

    @classmethod
    def from_file(cls, *, domain: str, selector: str, path: str | Path) -> DkimSigner:
        return cls(domain=domain, selector=selector, private_key=Path(path).read_bytes())

    def _sign(self, data: bytes) -> bytes:
        if isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        import hashlib

        # RFC 8463: Ed25519 signs the SHA-256 digest of the canonical headers.
        return self._key.sign(hashlib.sha256(data).digest())

    def signature_header(
        self, header_lines: Iterable[tuple[str, bytes]], body_hash: bytes, *, timestamp: int
    ) -> bytes:
        """The DKIM-Signature line for these headers (lower-case name, raw line) and
        this body hash (the SHA-256 digest of the canonical body)."""
        signed: list[bytes] = []
        names: list[str] = []
        for name, line in header_lines:
            if name in SIGNED_HEADERS:
                signed.append(canonical_header(line))
                names.append(name)
        # A name more in h= than the message has instances signs an empty one: an added
        # instance no longer matches it (RFC 6376 section 5.4.2).
        names += [name for name in OVERSIGNED if name in names]
        bh = base64.b64encode(body_hash).decode("ascii")
        value = (
            f" v=1; a={self.algorithm}; c=relaxed/relaxed;\r\n"
            f"\td={self.domain}; s={self.selector}; t={timestamp};\r\n"
            f"\th={_fold_names(names)};\r\n"
            f"\tbh={bh};\r\n"
            "\tb="
        )
        unsigned = b"DKIM-Signature:" + value.encode("ascii")
        data = b"".join(signed) + canonical_header(unsigned + b"\r\n")[:-2]
        signature = base64.b64encode(self._sign(data)).decode("ascii")
        folded = "\r\n\t".join(signature[i : i + 72] for i in range(0, len(signature), 72))
        return unsigned + folded.encode("ascii") + b"\r\n"


def _fold_names(names: list[str]) -> str:
    """The h= list, folded after a colon so no line of the header passes 78 characters."""
    lines: list[str] = []
    line = ""
    for index, name in enumerate(names):
        piece = name if index == len(names) - 1 else f"{name}:"
        if line and len(line) + len(piece) > 72:
            lines.append(line)
            line = ""
        line += piece
    lines.append(line)
    return "\r\n\t".join(lines)
