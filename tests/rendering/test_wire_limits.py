"""Property tests: on 100,000 random values of every length (0 to 400 characters of
ASCII, Latin-1, emoji, CJK, runs of spaces, tabs, "=", ".", long words), the fast path
writes quoted-printable lines of at most 76 characters (RFC 2045 section 6.7), encoded
words of at most 75 (RFC 2047 section 2) and header lines of at most 78 (RFC 5322
section 2.1.1; up to 998 for one word too long to fold), and the standard library reads
back exactly the value written.

The bulk goes through the primitives each message is made of (``mime.qp`` after a
random fixed prefix, the Subject, To and List-Id lines, encoded words); a share goes
through ``PreparedMessage.personalise`` whole, parsed by ``email`` with the default
policy. Marked slow: about ten seconds, all of them in ``make test``.
"""

from __future__ import annotations

import binascii
import dataclasses
import email
import email.policy
import random
import re
from email.header import decode_header, make_header

import pytest

from mailer.bulletins import context
from mailer.email_templates.seeds import seed_parts
from mailer.rendering import mime
from mailer.rendering.prepare import PreparedMessage, Recipient, prepare
from tests.rendering.conftest import CONSULTATION, NOW, ORG, SENDER, links

pytestmark = pytest.mark.slow

VALUES = 100_000
WHOLE_MESSAGES = 2_000  # of the 100,000: through personalise and email's parser
PIECES = [
    *"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    *"!\"#$%&'()*+,-./:;<>?@[\\]^_`{|}~",
    " ", "  ", "     ", "\t", "=", "==", ".", "..", "?=", "=?", "=?utf-8?b?", "From ",
    "é", "ß", "ÿ", "Ó", "ñ", "\xa0", "😀", "📣", "👩\u200d👩\u200d👧", "王", "東京都", "한국",
    "Supercalifragilisticexpialidocious", "x" * 90, "https://example.org/a?b=c&d=e",
]  # fmt: skip
_ENCODED_WORD = re.compile(rb"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
EMAIL = "stakeholder@example.org"


def values(count: int, *, seed: int) -> list[str]:
    rng = random.Random(seed)  # noqa: S311 (test data, not secrets)
    found: list[str] = []
    for _ in range(count):
        length = rng.randint(0, 400)
        found.append("".join(rng.choices(PIECES, k=length))[:length])
    return found


def check_header(line: bytes) -> None:
    """Every line of a header within 78 characters, or within 998 when it is one word
    that cannot be folded; every encoded word within 75."""
    assert line.endswith(b"\r\n"), line
    for number, part in enumerate(line[:-2].split(b"\r\n")):
        assert len(part) <= 998, line
        if len(part) > 78:
            words = part.split(b": ", 1)[1] if number == 0 else part.strip()
            assert b" " not in words, line
    for word in _ENCODED_WORD.findall(line):
        assert len(word) <= 75, line


def read_text(line: bytes) -> str:
    """An unstructured header's value as the standard library decodes it."""
    value = line.split(b":", 1)[1].decode("ascii").replace("\r\n", "")
    return str(make_header(decode_header(value))).strip()


def read_phrase(line: bytes) -> str:
    """The display name of an address line (``Name <addr>``) as the standard library
    reads it. Encoded words are read with ``decode_header``: Python 3.11's default
    policy puts a space between adjacent encoded words of a phrase, which RFC 2047
    section 6.2 says to drop (the mail programs we know of drop it)."""
    if b"=?" in line:
        phrase = line.split(b":", 1)[1].rsplit(b"<", 1)[0]
        unfolded = phrase.decode("ascii").replace("\r\n", "")
        return str(make_header(decode_header(unfolded))).strip()
    # Read as an address (a List-Id's phrase is written as one; its "address" is the id).
    as_to = b"To:" + line.split(b":", 1)[1].replace(b"<list-7.stakeholders.example.org>", b"<l@x>")
    message = email.message_from_bytes(as_to + b"\r\n", policy=email.policy.default)
    return str(message["To"].addresses[0].display_name)


def test_the_primitives_keep_the_limits_and_read_back_on_100000_values() -> None:
    rng = random.Random(2045)  # noqa: S311
    for value in values(VALUES - WHOLE_MESSAGES, seed=21):
        written = mime.one_line(value)
        # The body: a fixed segment of any length before the value, joined as the fast
        # path joins them, and the value alone (a link, a name).
        prefix = "p" * rng.randint(0, 160) + rng.choice(["", " ", "=", ".", "\n", "é", "\t"])
        encoded = mime.qp(prefix) + mime.qp(value) + mime.qp(written)
        for part in encoded.split(b"\r\n"):
            assert len(part) <= 76, (value, part)
        expected = (prefix + value + written).replace("\r\n", "\n").replace("\r", "\n")
        decoded = binascii.a2b_qp(encoded.replace(b"=\r\n", b"")).replace(b"\r\n", b"\n")
        assert decoded == expected.encode("utf-8"), value

        subject = mime.text_header("Subject", value)
        check_header(subject)
        assert read_text(subject) == written, value

        to = mime.address_header("To", value, EMAIL)
        check_header(to)
        assert to.rstrip(b"\r\n").endswith(f"<{EMAIL}>".encode()) or not written
        if written:
            assert read_phrase(to) == written, value

        list_id = mime.list_id_header(value, "list-7.stakeholders.example.org")
        check_header(list_id)
        assert list_id.rstrip(b"\r\n").endswith(b"<list-7.stakeholders.example.org>")
        if written:
            assert read_phrase(list_id) == written, value

        # Encoded words for any room left on the first line (the Subject and To above
        # leave one each); every word, and the value they read back as.
        words = mime.encoded_words(written or "x", first_room=rng.randint(20, 78))
        for word in words.split("\r\n "):
            assert len(word) <= 75, value
        assert str(make_header(decode_header(words))) == (written or "x"), value


@pytest.fixture(scope="module")
def message() -> PreparedMessage:
    """A bulletin whose subject names its reader, fast path throughout."""
    parts = dataclasses.replace(
        seed_parts("bulletin"), subject="{{ bulletin.subject }} {{ contact.name }}"
    )
    built = context.build(
        kind="bulletin",
        content=context.Content(subject="Your views, please:", preheader="", body_markdown="Hi."),
        org=ORG,
        consultation=CONSULTATION,
        documents=[],
        timezone="Europe/London",
        now=NOW,
    )
    return prepare(parts, built, sender=SENDER, attachments=[])


def test_whole_messages_keep_the_limits_and_read_back(message: PreparedMessage) -> None:
    for number, value in enumerate(values(WHOLE_MESSAGES, seed=2047)):
        written = mime.one_line(value)
        recipient = Recipient(
            EMAIL,
            value,
            value,
            links={**links(str(number)), "share": "https://mailer.example.org/s/" + written},
        )
        raw = message.personalise(recipient, message_id=f"<{number}@example.org>", now=NOW)
        head, body = raw.split(b"\r\n\r\n", 1)
        fields = re.split(rb"\r\n(?=[^ \t])", head)
        for field in fields:
            check_header(field + b"\r\n")
        for part in body.split(b"\r\n"):
            assert len(part) <= 76, (value, part)
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert str(parsed["Subject"]) == mime.one_line(f"Your views, please: {written}")
        to = next(f for f in fields if f.startswith(b"To:"))
        assert read_phrase(to) == written, value
        text = parsed.get_body(("plain",))
        assert text is not None
        shown = text.get_content()
        assert (written or "") in shown, value
