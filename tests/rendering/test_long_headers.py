"""Long subjects and names are folded (RFC 5322: no line over 998 octets, none over 78
where a fold is possible), pass a real relay, and read back as they were written."""

from __future__ import annotations

import dataclasses
import email
import email.policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import parseaddr

import pytest

from mailer.bulletins import context
from mailer.delivery.smtp import SmtpTransport
from mailer.email_templates.seeds import seed_parts
from mailer.rendering import mime
from mailer.rendering.prepare import Recipient, message_id, prepare
from tests.rendering.conftest import CONSULTATION, NOW, ORG, SENDER, links
from tests.smtp_server import smtp_server

WORDS = "Have your say on the draft Police and Crime Plan for Northshire, " * 5
SUBJECTS = {
    "words": WORDS[:300],
    "one long word": "x" * 300,
    "a long link": "Read https://example.org/" + "a" * 275,
    "not ascii": ("Café consultation, ünïcode " * 20)[:300],
    "emoji": "📣" * 300,
    "escaped-looking": ("=?utf-8?q?not_a_word?= " * 20)[:300],
}
LONG_NAME = "Dr Samantha Okonkwo-Fitzgerald-Worthington, " * 7 + "of Northshire"


def message_with(subject: str, name: str, *, personal: bool = False) -> bytes:
    parts = seed_parts("bulletin")
    if personal:
        parts = dataclasses.replace(parts, subject="{{ bulletin.subject }} {{ contact.name }}")
    built = context.build(
        kind="bulletin",
        content=context.Content(subject=subject, preheader="", body_markdown="Hello."),
        org=ORG,
        consultation=CONSULTATION,
        documents=[],
        timezone="Europe/London",
        now=NOW,
    )
    prepared = prepare(parts, built, sender=SENDER, attachments=[])
    recipient = Recipient("sam@example.org", name, "Northshire Council", links=links("a"))
    return prepared.personalise(recipient, message_id=message_id("example.org"), now=NOW)


def head_lines(raw: bytes) -> list[bytes]:
    return raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


@pytest.mark.parametrize("subject", SUBJECTS.values(), ids=SUBJECTS.keys())
@pytest.mark.parametrize("personal", [False, True], ids=["fixed", "per recipient"])
def test_a_long_subject_and_name_are_folded_and_read_back(subject: str, personal: bool) -> None:
    raw = message_with(subject, LONG_NAME, personal=personal)
    lines = raw.split(b"\r\n")
    assert max(len(line) for line in lines) <= 998
    # Every header line fits 78 but the List-Unsubscribe URL, which cannot be split.
    for line in head_lines(raw):
        assert len(line) <= 78 or line.strip().startswith(b"<http"), line
    message: EmailMessage = email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[assignment]
    expected = mime.one_line(subject + (" " + LONG_NAME if personal else ""))
    assert str(message["Subject"]) == expected
    # RFC 2047 readers join adjacent encoded words (Python's address parser adds a
    # space between them, so the name is read back the way mail programs do).
    raw_to = email.message_from_bytes(raw, policy=email.policy.compat32)["To"]
    shown, address = parseaddr(raw_to)
    assert str(make_header(decode_header(shown))) == mime.one_line(LONG_NAME)
    assert address == "sam@example.org"
    for line in head_lines(raw):
        for word in line.split():
            if word.startswith(b"=?"):
                assert len(word) <= 75, word


def test_a_300_character_subject_passes_a_real_relay() -> None:
    with smtp_server() as relay:
        transport = SmtpTransport(host="127.0.0.1", port=relay.port, security="none", timeout=5)
        try:
            for subject in SUBJECTS.values():
                data = message_with(subject, LONG_NAME)
                transport.send(sender="news@example.org", recipient="sam@example.org", data=data)
        finally:
            transport.close()
        assert len(relay.received) == len(SUBJECTS)
        for received, subject in zip(relay.received, SUBJECTS.values(), strict=True):
            parsed = email.message_from_bytes(received.data, policy=email.policy.default)
            assert str(parsed["Subject"]) == mime.one_line(subject)


def test_header_values_never_carry_a_line_break_or_a_control() -> None:
    for value in ("a\r\nBcc: x@example.net", "a\rb\nc", "ESC\x1b[2J DEL\x7f NUL\x00 RLO\u202e"):
        for line in (
            mime.text_header("Subject", value),
            mime.address_header("To", value, "a@b.example"),
        ):
            assert line.count(b"\r\n") == 1 or all(
                part.startswith(b" ") for part in line.split(b"\r\n")[1:-1]
            )
            assert not any((ch < 32 and ch not in (10, 13)) or ch == 127 for ch in line)


@pytest.mark.parametrize(
    "filename",
    ["é" * 200 + ".pdf", "a" * 250 + ".pdf", "Draft plan, version 2 (easy read).pdf", "📎" * 90],
)
def test_a_long_attachment_name_is_folded_and_read_back(filename: str) -> None:
    part = mime.attachment_part(filename, "application/pdf", b"%PDF-1.4")
    head = part.split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in head.split(b"\r\n")) <= 78
    parsed = email.message_from_bytes(b"MIME-Version: 1.0\r\n" + part, policy=email.policy.default)
    assert parsed.get_filename() == filename
    assert parsed.get_content() == b"%PDF-1.4"
