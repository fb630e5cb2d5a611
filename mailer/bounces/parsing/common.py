"""What every reader of a returned message needs: header values as text, the parts of a
report, the original message a report quotes, status codes in words.

Everything here is written for hostile input: a header that does not decode, a part
whose payload is not what its Content-Type says, a message cut short. Nothing raises;
what cannot be read is "".
"""

from __future__ import annotations

import base64
import quopri
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.header import Header, decode_header
from email.message import Message
from email.parser import BytesHeaderParser, HeaderParser
from email.utils import getaddresses
from html import unescape

from mailer.bounces.models import HARD, SOFT
from mailer.bounces.reports import Failure

# An enhanced status code (RFC 3463), "5.1.1", "4.2.2", "5.1.10" (Exchange), not part of
# a longer dotted number such as an IP address.
STATUS = re.compile(r"(?<![\w.])([45])\.(\d{1,3})\.(\d{1,3})(?!\.?\d)")
# A basic SMTP reply code at the start of a reply: "550 ...", "452-...".
REPLY_CODE = re.compile(r"(?<![\w.:/-])([45])\d\d(?=[\s-])")
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,900}>")
_MESSAGE_ID_LINE = re.compile(r"^message-id:[ \t]*(.{1,990})$", re.IGNORECASE | re.MULTILINE)
# A field value is never more than this once unfolded: longer is garbage, cut.
MAX_VALUE = 998


def one_line(value: str) -> str:
    """``value`` with every run of whitespace (CR and LF among it) as one space."""
    return " ".join(value.split())


def header(message: Message, name: str) -> str:
    """The first ``name`` field of ``message`` as text (RFC 2047 words decoded), "" when
    absent or unreadable."""
    values = headers(message, name)
    return values[0] if values else ""


def headers(message: Message, name: str) -> list[str]:
    """Every ``name`` field of ``message``, decoded, on one line each."""
    found: list[str] = []
    try:
        raw_values = message.get_all(name) or []
    except Exception:  # a header the parser kept as something odd: nothing to read
        return found
    for raw_value in raw_values:
        found.append(one_line(_decoded(raw_value))[:MAX_VALUE])
    return found


def utf8(text: str) -> str:
    """``text`` with the raw 8-bit bytes the parser kept (as surrogate escapes) read as
    UTF-8, as RFC 6532 headers and message/global-delivery-status fields are."""
    if not any("\udc80" <= character <= "\udcff" for character in text):
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _decoded(value: object) -> str:
    """A header value as text: RFC 2047 words decoded, and raw 8-bit bytes (which the
    parser hands back as an unknown-8bit Header) read as UTF-8."""
    try:
        if isinstance(value, Header):
            value = "".join(
                chunk.decode("utf-8", "replace") if isinstance(chunk, bytes) else chunk
                for chunk, _ in decode_header(value)
            )
        chunks = decode_header(utf8(str(value)))
        text: list[str] = []
        for chunk, charset in chunks:
            text.append(chunk if isinstance(chunk, str) else _chunk_text(chunk, charset))
        return "".join(text)
    except Exception:  # undecodable words: the value as it stands
        try:
            return str(value)
        except Exception:
            return ""


def _chunk_text(chunk: bytes, charset: str | None) -> str:
    if charset is None:  # the words around encoded ones, as decode_header hands them
        try:
            return chunk.decode("raw-unicode-escape")
        except UnicodeDecodeError:
            return chunk.decode("latin-1")
    try:
        return chunk.decode(charset, "replace")
    except LookupError:  # a charset Python does not know
        return chunk.decode("utf-8", "replace")


def addresses(values: list[str]) -> list[str]:
    """The addresses named in header ``values`` ("Name <a@b>, c@d" -> a@b, c@d)."""
    try:
        pairs = getaddresses(values)
    except Exception:
        return []
    return [address for _, address in pairs if address]


def message_id(value: str) -> str:
    """The Message-ID in ``value`` with its angle brackets, as deliveries store it;
    "" when there is none."""
    match = _MESSAGE_ID.search(value)
    if match:
        return match.group(0)
    bare = value.strip()
    if bare and "@" in bare and not any(c.isspace() or c in "<>" for c in bare):
        return f"<{bare[:900]}>"
    return ""


def text_of(part: Message) -> str:
    """The decoded text of a leaf part ("" for a multipart or unreadable part)."""
    try:
        if part.is_multipart():
            return ""
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            return ""
        charset = part.get_content_charset() or "utf-8"
        try:
            return payload.decode(charset, errors="replace")
        except LookupError:  # a charset Python does not know
            return payload.decode("utf-8", errors="replace")
    except Exception:
        return ""


def walk(message: Message) -> Iterator[Message]:
    """Every part of ``message``, without raising on a broken structure."""
    try:
        yield from message.walk()
    except Exception:
        return


def content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "text/plain"


def report_type(message: Message) -> str:
    """The report-type of a multipart/report ("delivery-status", "feedback-report")."""
    try:
        return str(message.get_param("report-type", "") or "").strip().lower()
    except Exception:
        return ""


def field_blocks(part: Message) -> list[Message]:
    """The blocks of header fields a report part holds (message/delivery-status: one for
    the message, one per recipient; message/feedback-report: one).

    The parser reads message/delivery-status into blocks itself and other message/*
    types into one message; a part it kept as text (base64, or a type it does not know,
    as message/global-delivery-status) is read here.
    """
    try:
        payload = part.get_payload()
    except Exception:
        return []
    if isinstance(payload, list):
        blocks = [block for block in payload if isinstance(block, Message)]
        if blocks and not all(len(block.keys()) == 0 for block in blocks):
            return _unnested(blocks)
        return fields_in(_encoded_body(part))
    return fields_in(text_of(part))


def _encoded_body(part: Message) -> str:
    """The fields of a message/delivery-status part sent base64 or quoted-printable
    (RFC 3464 allows it), which the parser split into blocks before decoding."""
    encoding = header(part, "Content-Transfer-Encoding").lower()
    if encoding not in ("base64", "quoted-printable"):
        return ""
    try:
        body = part.as_bytes().partition(b"\n\n")[2]
        if encoding == "quoted-printable":
            return quopri.decodestring(body).decode("utf-8", "replace")
        letters = re.sub(rb"[^A-Za-z0-9+/]", b"", body)
        letters = letters[: len(letters) - len(letters) % 4]
        return base64.b64decode(letters).decode("utf-8", "replace")
    except Exception:  # a part that cannot be written out again: no fields from it
        return ""


def fields_in(text: str) -> list[Message]:
    """The blocks of fields in ``text``, one per paragraph."""
    parser = HeaderParser()
    return [
        parser.parsestr(chunk.strip() + "\n")
        for chunk in re.split(r"\r?\n[ \t]*\r?\n", utf8(text))
        if chunk.strip()
    ]


def _unnested(blocks: list[Message]) -> list[Message]:
    """A message/feedback-report read as one message holds its fields as headers; a
    block whose fields went on past a blank line (into its body) is read on."""
    found: list[Message] = []
    for block in blocks:
        found.append(block)
        if block.is_multipart():
            continue
        rest = block.get_payload(decode=True)  # bytes: 8-bit fields stay readable
        if isinstance(rest, bytes) and b":" in rest:
            found.extend(fields_in(rest.decode("utf-8", "replace")))
    return found


def original_headers(message: Message) -> Message | None:
    """The headers of the original message a report quotes: a message/rfc822 part, a
    text/rfc822-headers part, or None."""
    for part in walk(message):
        kind = content_type(part)
        if kind in ("message/rfc822", "message/global"):
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                return inner[0]
            if isinstance(inner, str) and inner.strip():
                return _headers_from_text(text_of(part) or inner)
        if kind in ("text/rfc822-headers", "message/global-headers"):
            return _headers_from_text(text_of(part))
    return None


def _headers_from_text(text: str) -> Message | None:
    try:
        return BytesHeaderParser().parsebytes(text.lstrip().encode("utf-8", "replace"))
    except Exception:
        return None


def original_message_id(message: Message, *, inline_text: str = "") -> str:
    """The Message-ID of the original message a report is about: from the quoted
    message or headers, else from a "Message-ID:" line quoted in ``inline_text``."""
    quoted = original_headers(message)
    if quoted is not None:
        found = message_id(header(quoted, "Message-ID"))
        if found:
            return found
    for match in _MESSAGE_ID_LINE.finditer(inline_text):
        found = message_id(match.group(1))
        if found:
            return found
    return ""


def original_return_path(message: Message) -> str:
    """The Return-Path (our envelope sender, with its VERP token) of the quoted original."""
    quoted = original_headers(message)
    return header(quoted, "Return-Path") if quoted is not None else ""


def failure_kind(status: str, diagnostic: str = "") -> str:
    """HARD for a permanent code (5.x.x, or a 5xx reply), SOFT for a temporary one,
    "" when neither says."""
    match = STATUS.search(status) or STATUS.search(diagnostic)
    if match:
        return HARD if match.group(1) == "5" else SOFT
    reply = REPLY_CODE.search(diagnostic)
    if reply:
        return HARD if reply.group(1) == "5" else SOFT
    return ""


def status_in(text: str) -> str:
    """The first enhanced status code in ``text`` ("5.1.1"), or ""."""
    match = STATUS.search(text)
    return match.group(0) if match else ""


@dataclass(frozen=True)
class Reading:
    """What one reader understood of a message; ``parse`` makes the Report of it."""

    kind: str  # reports.REPORT_*
    detail: str  # the form recognised, for the log: "RFC 3464 (Postfix)"
    failures: tuple[Failure, ...] = ()
    message_id: str = ""  # of our original message, with angle brackets
    # The original's Return-Path, where our VERP token may be found when the report
    # did not come to the tokened address itself (a feedback loop's).
    original_sender: str = ""


def report_texts(message: Message) -> str:
    """The words of a report meant for people: its text parts (HTML reduced to text),
    leaving out the original message it quotes."""
    found: list[str] = []
    _collect_texts(message, found, depth=0)
    return "\n\n".join(found)


def _collect_texts(part: Message, found: list[str], *, depth: int) -> None:
    kind = content_type(part)
    if depth > 20 or kind.startswith("message/") or kind == "text/rfc822-headers":
        return
    if part.is_multipart():
        try:
            children = part.get_payload()
        except Exception:
            return
        for child in children if isinstance(children, list) else []:
            if isinstance(child, Message):
                _collect_texts(child, found, depth=depth + 1)
        return
    if kind == "text/plain":
        found.append(text_of(part))
    elif kind == "text/html":
        found.append(html_text(text_of(part)))


def html_text(html: str) -> str:
    """Crude but safe: the text of an HTML part, for finding codes in an NDR that
    sent no plain text (as Exchange's often do)."""
    html = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", html)
    html = re.sub(r"(?i)<br\s*/?>|</(p|div|tr|li|h\d)\s*>", "\n", html)
    return unescape(re.sub(r"<[^>]{0,2000}>", " ", html))
