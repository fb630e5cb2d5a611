"""What every report carries, unsubscribe requests, and what is not understood."""

from __future__ import annotations

import hashlib

import pytest

from mailer.bounces.parsing import Unreadable, parse
from mailer.bounces.reports import (
    REPORT_AUTO_REPLY,
    REPORT_BOUNCE,
    REPORT_UNKNOWN,
    REPORT_UNSUBSCRIBE,
)

from .fixtures import BOUNCE_ADDRESS, MESSAGES, parsed, raw


def test_an_unsubscribe_request_carries_its_token() -> None:
    report = parsed("unsubscribe_request.msg")
    assert report.kind == REPORT_UNSUBSCRIBE
    assert report.verp_token == "u39u-e5cc45edbbbfcb73"
    assert report.failures == ()
    assert report.subject == "unsubscribe"


def test_an_unsubscribe_request_found_by_the_envelope_recipient_alone() -> None:
    message = (
        b"From: someone@example.net\nTo: consult@consult.example.gov.uk\n"
        b"Subject: please stop\nMessage-ID: <x1@example.net>\n\nStop.\n"
    )
    report = parse(
        message,
        source="pipe",
        bounce_address=BOUNCE_ADDRESS,
        envelope_recipient="bounces+u39u-e5cc45edbbbfcb73@consult.example.gov.uk",
    )
    assert report.kind == REPORT_UNSUBSCRIBE
    assert report.verp_token == "u39u-e5cc45edbbbfcb73"
    assert report.recipients == (
        "bounces+u39u-e5cc45edbbbfcb73@consult.example.gov.uk",
        "consult@consult.example.gov.uk",
    )


def test_without_the_bounce_address_no_request_is_seen() -> None:
    report = parse(raw("unsubscribe_request.msg"), source="mailbox")
    assert report.kind == REPORT_UNKNOWN
    assert report.verp_token == ""


def test_an_out_of_office_to_the_unsubscribe_address_unsubscribes_nobody() -> None:
    message = raw("unsubscribe_request.msg").replace(
        b"Subject: unsubscribe", b"Subject: Automatic reply: unsubscribe"
    )
    report = parse(message, source="mailbox", bounce_address=BOUNCE_ADDRESS)
    assert report.kind == REPORT_AUTO_REPLY


def test_the_recipients_are_where_it_was_delivered() -> None:
    report = parse(
        raw("postfix_dsn.msg"),
        source="pipe",
        bounce_address=BOUNCE_ADDRESS,
        envelope_recipient="bounces+d39u-9a8f1179b5a1b9e7@consult.example.gov.uk",
    )
    tokened = "bounces+d39u-9a8f1179b5a1b9e7@consult.example.gov.uk"
    # Envelope, Delivered-To, X-Original-To, To.
    assert report.recipients == (tokened,) * 4
    assert report.source == "pipe"


def test_the_fingerprint_is_the_message_id_else_a_digest_of_the_bytes() -> None:
    assert parsed("exim_bounce.msg").fingerprint == (
        "<E1tG7qN-00A1bC-2x@mx.county-library.example.org>"
    )
    qmail = raw("qmail_bounce.msg")
    assert parsed("qmail_bounce.msg").fingerprint == hashlib.sha256(qmail).hexdigest()
    # The same message read twice is the same report.
    assert parsed("qmail_bounce.msg") == parsed("qmail_bounce.msg")


def test_a_person_replying_is_not_understood() -> None:
    message = (
        b"From: Jo <jo@parish.example.org>\nTo: consult@consult.example.gov.uk\n"
        b"Subject: Re: Consultation\n\nThe 550 homes in the plan are too many.\n"
    )
    report = parse(message, source="mailbox", bounce_address=BOUNCE_ADDRESS)
    assert report.kind == REPORT_UNKNOWN
    assert report.detail == "not understood"


def test_a_message_of_headers_only_is_a_message() -> None:
    report = parse(b"Subject: hello\n", source="file")
    assert report.kind == REPORT_UNKNOWN
    assert report.subject == "hello"


def test_header_values_never_carry_line_breaks() -> None:
    message = b"Subject: =?utf-8?q?one=0D=0Atwo?=\nFrom: x@example.net\n\nbody\n"
    report = parse(message, source="file")
    assert "\r" not in report.subject and "\n" not in report.subject


@pytest.mark.parametrize("name", ["empty.msg", "garbage.msg"])
def test_bytes_that_are_no_message_are_unreadable(name: str) -> None:
    with pytest.raises(Unreadable):
        parse(raw(name), source="pipe", bounce_address=BOUNCE_ADDRESS)


@pytest.mark.parametrize("data", [b"", b"   \n\r\n", b"\x00\x01\x02", b"just some words\n"])
def test_no_header_block_is_unreadable(data: bytes) -> None:
    with pytest.raises(Unreadable):
        parse(data, source="pipe")


def test_a_huge_message_is_read_by_its_first_part() -> None:
    attachment = b"QUJDRA==\n" * 1_000_000  # about 9 MB of base64 after the report
    message = raw("postfix_dsn.msg").replace(
        b"--4QkZ3B1n0Lz9sTt.1732443247/relay.example.gov.uk--\n",
        b"--4QkZ3B1n0Lz9sTt.1732443247/relay.example.gov.uk\n"
        b"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
        + attachment
        + b"--4QkZ3B1n0Lz9sTt.1732443247/relay.example.gov.uk--\n",
    )
    report = parse(message, source="file")
    assert report.kind == REPORT_BOUNCE
    assert report.failures[0].status == "5.1.1"
    assert report.raw == message


def test_raw_utf8_and_encoded_words_in_the_subject_are_read() -> None:
    message = "Subject: Réponse =?iso-8859-1?q?=E0?= vous\nFrom: x@example.net\n\n".encode()
    assert parse(message, source="file").subject == "Réponse à vous"


def test_an_unsubscribe_request_marked_only_by_auto_response_suppress_counts() -> None:
    message = raw("unsubscribe_request.msg").replace(
        b"Subject: unsubscribe", b"Subject: unsubscribe\nX-Auto-Response-Suppress: All"
    )
    report = parse(message, source="mailbox", bounce_address=BOUNCE_ADDRESS)
    assert report.kind == REPORT_UNSUBSCRIBE


@pytest.mark.parametrize(
    "name",
    sorted(path.name for path in MESSAGES.glob("*.msg") if path.stat().st_size),
)
def test_crlf_line_ends_and_an_mbox_from_line_change_nothing(name: str) -> None:
    # IMAP hands messages over with CRLF; a Postfix pipe with flags=F adds "From ".
    message = raw(name)
    try:
        expected = parse(message, source="mailbox", bounce_address=BOUNCE_ADDRESS)
    except Unreadable:
        return
    for variant in (
        message.replace(b"\n", b"\r\n"),
        b"From MAILER-DAEMON  Tue Nov 24 10:14:07 2026\n" + message,
    ):
        report = parse(variant, source="mailbox", bounce_address=BOUNCE_ADDRESS)
        assert (report.kind, report.message_id, report.verp_token, report.detail) == (
            expected.kind,
            expected.message_id,
            expected.verp_token,
            expected.detail,
        )
        assert report.failures == expected.failures
