"""Wire format pieces: quoted-printable segments, header lines, attachment parts.

Everything here returns bytes with CRLF line endings, because SMTP requires them and
the test servers we use would accept bare LF without complaint. A header value never
carries CR or LF: whitespace runs (line breaks included) collapse to one space before a
value is encoded, so no data can start a header of its own.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from email.utils import quote
from pathlib import Path
from urllib.parse import quote as url_quote

from mailer.cleaning import strip_controls

MAX_LINE = 78
_WHITESPACE = re.compile(r"\s+")
_SPECIALS = re.compile(r'[()<>\[\]:;@\\,."]')
# Printable ASCII but "=", with spaces only between other characters (and not a lone
# ".", which it encodes): text that quoted-printable leaves as it is, if on one line.
_QP_PLAIN = re.compile(r"[!-<>-~](?:[ !-<>-~]*[!-<>-~])?\Z")
_QP_PLAIN_MAX = 70
_QP_LINE = 76  # the longest quoted-printable line, the soft break's "=" counted


def one_line(value: str) -> str:
    """``value`` with every run of whitespace, CR and LF included, as one space, and
    without control or direction-changing characters (mailer.cleaning): what goes into
    a header or a personal value, whoever wrote it (a form, an import, the admin)."""
    if value.isprintable() and "  " not in value and value[:1] != " " and value[-1:] != " ":
        # Already one line (the usual case, several times per message): isprintable()
        # is False for every whitespace character but the plain space, and for every
        # control and format character.
        return value
    return _WHITESPACE.sub(" ", strip_controls(value)).strip()


def header(name: str, value: str) -> bytes:
    """One header line, CRLF-ended: folded between words if long (no line over 78
    characters but for a single word longer than that), as RFC 2047 encoded words of at
    most 75 characters if not ASCII. For unstructured values (and structured ones that
    are ASCII): a structured value with a phrase (an address, a List-Id) has its own
    function, since only its phrase may be encoded."""
    value = one_line(value)
    if value.isascii():
        if len(name) + 2 + len(value) <= MAX_LINE:
            return f"{name}: {value}\r\n".encode("ascii")
        return f"{name}: {_fold(value, first_room=MAX_LINE - len(name) - 2)}\r\n".encode("ascii")
    words = encoded_words(value, first_room=MAX_LINE - len(name) - 2)
    return f"{name}: {words}\r\n".encode("ascii")


def _fold(value: str, *, first_room: int) -> str:
    """ASCII ``value`` folded between words (before a space, RFC 5322 section 2.2.3),
    each line at most 78 characters unless one word alone is longer. A single long
    word (a List-Unsubscribe URL, in every message) goes on a continuation line of its
    own rather than after the header's name, where it would only be longer."""
    lines: list[str] = []
    line = ""
    room = first_room
    for word in value.split(" "):
        if not line:
            if lines or len(word) <= room:
                line = word
                continue
            lines.append("")  # the name's line holds nothing: the word starts the next
            room = MAX_LINE - 1
            line = word
        elif len(line) + 1 + len(word) <= room:
            line += " " + word
        else:
            lines.append(line)
            room = MAX_LINE - 1
            line = word
    lines.append(line)
    return "\r\n ".join(lines)


def text_header(name: str, value: str) -> bytes:
    """An unstructured header (Subject) of any length, folded so that no line is over
    78 characters (RFC 5322 section 2.1.1): between words where they fit, else as
    RFC 2047 encoded words (at most 75 characters each, splittable anywhere) for a
    word too long for a line. A subject is per send, or per recipient when it names
    them: the usual short one costs one check more than ``header``."""
    value = one_line(value)
    line = header(name, value)
    # Text that merely looks like an encoded word ("=?...?=") would be decoded by the
    # reader's mail program: encode it, so it reads as written. ``header`` encodes any
    # value that is not ASCII; an ASCII one is kept as it is if its words fit.
    if not value.isascii() or ("=?" not in value and _folded_well(line)):
        return line
    words = encoded_words(value, first_room=MAX_LINE - len(name) - 2)
    return f"{name}: {words}\r\n".encode("ascii")


_ENCODED_WORD = re.compile(rb"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def _folded_well(line: bytes) -> bool:
    return all(len(part) <= MAX_LINE for part in line.split(b"\r\n")) and all(
        len(word) <= 75 for word in _ENCODED_WORD.findall(line)
    )


def address(display_name: str, email: str) -> str:
    """``Name <email>`` for a To or From header, the name encoded as it needs."""
    display_name = one_line(display_name)
    email = one_line(email)
    if "<" in email or ">" in email or " " in email:
        raise ValueError(f"not a bare address: {email!r}")
    if not email.isascii():
        local, _, domain = email.rpartition("@")
        email = f"{local}@{domain.encode('idna').decode('ascii')}"
    if not display_name:
        return email
    if not display_name.isascii():
        return f"{encoded_words(display_name)} <{email}>"
    if _SPECIALS.search(display_name):
        return f'"{quote(display_name)}" <{email}>'
    return f"{display_name} <{email}>"


# An encoded word may be 75 characters (RFC 2047 section 2): "=?utf-8?b?" + 60 base64
# characters + "?=" is 72, and 60 base64 characters carry 45 bytes.
_WORD_BYTES = 45


def encoded_words(text: str, *, first_room: int = MAX_LINE) -> str:
    """``text`` as RFC 2047 base64 encoded words, folded between words. Per recipient,
    so done directly rather than through email.header (several times slower).
    ``first_room``: the characters left on the first line (after ``Subject: ``)."""
    data = text.encode("utf-8")
    first_bytes = min(_WORD_BYTES, max((first_room - 12) // 4 * 3, 3))
    if len(data) <= _WORD_BYTES and (len(data) <= first_bytes or first_room >= MAX_LINE):
        return f"=?utf-8?b?{base64.b64encode(data).decode('ascii')}?="  # a name, usually
    # Cut the bytes every 45 (fewer on the first line), each cut moved back to the start
    # of a character: an encoded word holds whole characters (RFC 2047 section 5).
    words: list[str] = []
    start = 0
    limit = first_bytes
    while len(data) - start > limit:
        end = start + limit
        while data[end] & 0xC0 == 0x80:  # a UTF-8 continuation byte
            end -= 1
        if end == start:  # a first line too short for even this character
            end = start + 1
            while end < len(data) and data[end] & 0xC0 == 0x80:
                end += 1
        words.append(base64.b64encode(data[start:end]).decode("ascii"))
        start = end
        limit = _WORD_BYTES
    words.append(base64.b64encode(data[start:]).decode("ascii"))
    return "\r\n ".join(f"=?utf-8?b?{word}?=" for word in words)


def address_header(name: str, display_name: str, email: str) -> bytes:
    """A From, To or Reply-To line: ``Name <email>``, folded before the angle address
    when the line would run past 78 characters, the name as encoded words (at most 75
    characters each) when it is not ASCII or too long for a line as a quoted string."""
    return _phrase_header(name, one_line(display_name), address("", email))


def list_id_header(description: str, list_id: str) -> bytes:
    """``List-Id: "description" <list_id>`` (RFC 2919): the description a phrase, as
    in an address, so a list's name reads in the reader's mail program as written.
    ``list_id`` is bare (``list-3.example.org``)."""
    description = one_line(description)
    if not description:
        return header("List-Id", f"<{list_id}>")
    return _phrase_header("List-Id", description, list_id)


def _phrase_header(name: str, phrase: str, bare: str) -> bytes:
    """``name: phrase <bare>``: only the phrase may be quoted or encoded (RFC 2047
    section 5: an encoded word may stand for a phrase word, never inside <...>)."""
    if not phrase:
        return f"{name}: {bare}\r\n".encode()
    first_room = MAX_LINE - len(name) - 2
    if phrase.isascii():
        shown = f'"{quote(phrase)}"' if _SPECIALS.search(phrase) else phrase
        if "=?" in phrase or len(shown) > first_room:
            # Text that looks like an encoded word would be decoded; a name too long
            # for a line cannot be folded inside a quoted string: encoded words can.
            shown = encoded_words(phrase, first_room=first_room)
    else:
        shown = encoded_words(phrase, first_room=first_room)
    last = shown.rpartition("\r\n")[2]
    room = first_room if "\r\n" not in shown else MAX_LINE
    # Only an internationalised local part (RFC 6532, sent with SMTPUTF8) is not ASCII.
    if len(last) + 2 + len(bare) + 1 <= room:
        return f"{name}: {shown} <{bare}>\r\n".encode()
    return f"{name}: {shown}\r\n <{bare}>\r\n".encode()


def qp(text: str) -> bytes:
    """``text`` as quoted-printable UTF-8 with CRLF line ends.

    A segment that does not end with a line break gets a soft one, so the next segment
    starts on a fresh line: the segments of a part can be encoded apart and joined."""
    if not text:
        return b""
    if len(text) <= _QP_PLAIN_MAX and text != "." and _QP_PLAIN.match(text):
        # A link or a plain name (most personal values): quoted-printable leaves it as
        # it is, so only the soft line break is added. tests/rendering/test_mime.py
        # checks this against binascii for the edge cases.
        return text.encode("ascii") + b"=\r\n"
    data = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    encoded = binascii.b2a_qp(data, quotetabs=False, istext=True, header=False)
    soft = not encoded.endswith(b"\n")
    if len(encoded) >= _QP_LINE:
        # binascii lets two kinds of line run past 76 characters (RFC 2045 section
        # 6.7): a line whose trailing space it encodes ("=20" pushes it to 77), and the
        # last line, which it fills to 76 when the text ends without a line break, and
        # to which the soft break below adds its "=". So its lines are wrapped again.
        lines = encoded.replace(b"=\n", b"").split(b"\n")
        last = len(lines) - 1
        encoded = b"\n".join(
            _wrap(line, room=_QP_LINE - 1 if soft and index == last else _QP_LINE)
            for index, line in enumerate(lines)
        )
    encoded = encoded.replace(b"\n", b"\r\n")
    return encoded + b"=\r\n" if soft else encoded


def _wrap(line: bytes, *, room: int) -> bytes:
    """One line of quoted-printable (escapes, no soft breaks) in soft-broken lines of at
    most 76 characters, the "=" counted; its last at most ``room``. Never broken inside
    an "=XX" escape: every "=" in ``line`` starts one."""
    if len(line) <= room:
        return line
    pieces: list[bytes] = []
    start = 0
    while len(line) - start > room:
        cut = start + _QP_LINE - 1
        if line[cut - 1] == 61:  # "="
            cut -= 1
        elif line[cut - 2] == 61:
            cut -= 2
        pieces.append(line[start:cut] + b"=")
        start = cut
    # Never a line of one "." (the end of DATA for a careless SMTP hop): the rest of a
    # line with a hard break is at least two characters, and a soft break follows one.
    pieces.append(line[start:])
    return b"\n".join(pieces)


def boundary() -> str:
    # "=_" cannot occur in quoted-printable text and "-" not in base64.
    return f"=_mailer_{secrets.token_hex(12)}"


def attachment_part(filename: str, content_type: str, data: bytes) -> bytes:
    """A base64 attachment part (headers and body), CRLF-ended."""
    safe_name = one_line(Path(filename).name) or "attachment"
    short = len(safe_name) <= _PARAM_PIECE
    if safe_name.isascii() and '"' not in safe_name and "\\" not in safe_name and short:
        disposition = f'attachment; filename="{safe_name}"'
        type_line = f'{content_type}; name="{safe_name}"'
        content_headers = header("Content-Type", type_line) + header(
            "Content-Disposition", disposition
        )
    else:
        # Non-ASCII or long: RFC 2231 (percent-encoded UTF-8), in numbered pieces on
        # lines of their own when long, so no line runs past 78 characters. The legacy
        # name= parameter is left out: readers take the filename from here.
        params = _rfc2231("filename", safe_name)
        content_headers = header("Content-Type", content_type) + (
            "Content-Disposition: attachment;\r\n " + ";\r\n ".join(params) + "\r\n"
        ).encode("ascii")
    body = base64.encodebytes(data).replace(b"\n", b"\r\n")
    return content_headers + b"Content-Transfer-Encoding: base64\r\n\r\n" + body


_PARAM_PIECE = 50


def _rfc2231(name: str, value: str) -> list[str]:
    """``name*=utf-8''...`` or its numbered continuations ``name*0*=``, ``name*1*=``..."""
    encoded = url_quote(value, safe="")
    pieces: list[str] = []
    start = 0
    while start < len(encoded):
        end = min(start + _PARAM_PIECE, len(encoded))
        cut = encoded.rfind("%", max(end - 2, start), end)
        if end < len(encoded) and cut != -1:
            end = cut  # never split a %XX
        pieces.append(encoded[start:end])
        start = end
    if len(pieces) == 1:
        return [f"{name}*=utf-8''{pieces[0]}"]
    return [
        f"{name}*{number}*=" + ("utf-8''" if number == 0 else "") + piece
        for number, piece in enumerate(pieces)
    ]
