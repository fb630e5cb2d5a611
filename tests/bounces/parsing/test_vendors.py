"""The forms real mail servers send: Microsoft 365, Gmail, Exim, qmail, and the text of
a bounce whose status part went missing."""

from __future__ import annotations

import base64
import re

from mailer.bounces.models import HARD
from mailer.bounces.parsing import parse
from mailer.bounces.reports import REPORT_BOUNCE, REPORT_DELAY, REPORT_UNKNOWN

from .fixtures import BOUNCE_ADDRESS, parsed, raw


def test_a_microsoft_365_ndr_gives_its_resolver_code() -> None:
    report = parsed("exchange_ndr.msg")
    assert report.kind == REPORT_BOUNCE
    assert report.detail == "RFC 3464 (Exchange)"
    (failure,) = report.failures
    assert failure.address == "a.khan@northshire-fire.example.gov.uk"
    # 5.1.10 is Exchange's own detail digits: still an enhanced status code.
    assert (failure.kind, failure.status) == (HARD, "5.1.10")
    assert "RESOLVER.ADR.RecipientNotFound" in failure.diagnostic
    assert report.message_id == "<20261124.c4d5e6f708192a3b4c5d6e7f@consult.example.gov.uk>"
    assert report.verp_token == "d39x-5d2e8f0a1b3c4d6e"


def test_an_exchange_ndr_without_diagnostic_code_takes_remote_server_returned() -> None:
    trimmed = re.sub(rb"Diagnostic-Code: [^\n]*\n", b"", raw("exchange_ndr.msg"))
    (failure,) = parse(trimmed, source="file").failures
    assert failure.diagnostic == (
        "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"
    )


def test_a_gmail_ndr_says_its_reply_once() -> None:
    report = parsed("gmail_ndr.msg")
    assert report.kind == REPORT_BOUNCE
    assert report.detail == "RFC 3464 (Gmail)"
    (failure,) = report.failures
    assert (failure.address, failure.kind, failure.status) == (
        "sam.ortiz.community@gmail.com",
        HARD,
        "5.1.1",
    )
    # Gmail's folded reply repeats "550-5.1.1" on every line; it is said once.
    assert failure.diagnostic.count("5.1.1") == 1
    assert "The email account that you tried to reach does not exist." in failure.diagnostic
    assert report.message_id == "<20261124.0a1b2c3d4e5f60718293a4b5@consult.example.gov.uk>"


def _gmail_without_status_part() -> bytes:
    message = raw("gmail_ndr.msg")
    start = message.index(b"--000000000000f2a1c30627c1d0b2\nContent-Type: message/delivery-status")
    end = message.index(b"--000000000000f2a1c30627c1d0b2\nContent-Type: message/rfc822")
    return message[:start] + message[end:]


def test_a_gmail_address_not_found_in_words_only_is_still_read() -> None:
    report = parse(_gmail_without_status_part(), source="pipe", bounce_address=BOUNCE_ADDRESS)
    assert report.kind == REPORT_BOUNCE
    assert report.detail.startswith("Gmail text")
    (failure,) = report.failures
    assert (failure.address, failure.kind, failure.status) == (
        "sam.ortiz.community@gmail.com",
        HARD,
        "5.1.1",
    )
    assert failure.diagnostic.startswith("550 5.1.1 The email account")


def test_a_bounce_naming_no_address_counts_for_the_delivery_its_token_names() -> None:
    words_only = _gmail_without_status_part().replace(
        b"X-Failed-Recipients: sam.ortiz.community@gmail.com\n", b""
    )
    report = parse(words_only, source="pipe", bounce_address=BOUNCE_ADDRESS)
    assert report.kind == REPORT_BOUNCE
    (failure,) = report.failures
    assert (failure.address, failure.kind, failure.status) == ("", HARD, "5.1.1")
    assert report.verp_token == "d39y-8c7b6a5f4e3d2c1b"
    assert report.message_id == "<20261124.0a1b2c3d4e5f60718293a4b5@consult.example.gov.uk>"


def test_an_exim_bounce_names_each_address_with_its_reason() -> None:
    report = parsed("exim_bounce.msg")
    # Exim marks its bounces Auto-Submitted: auto-replied; they are still bounces.
    assert report.kind == REPORT_BOUNCE
    assert report.detail.startswith("Exim text")
    first, second = report.failures
    assert (first.address, first.kind, first.status) == (
        "r.patel@county-library.example.org",
        HARD,
        "5.1.1",
    )
    assert first.diagnostic == (
        "550 5.1.1 <r.patel@county-library.example.org>: Recipient address rejected: "
        "User unknown in local recipient table"
    )
    # No code at all: permanent by Exim's own words ("a permanent error").
    assert (second.address, second.kind, second.status) == (
        "old.clerk@defunct-parish.example.org",
        HARD,
        "",
    )
    assert second.diagnostic == "Unrouteable address"
    # Quoted inline after "This is a copy of the message".
    assert report.message_id == "<20261126.9e8d7c6b5a4f3e2d1c0b9a88@consult.example.gov.uk>"


def test_an_exim_temporary_failure_with_a_4xx_reply_is_soft() -> None:
    message = (
        raw("exim_bounce.msg")
        .replace(b"550 5.1.1 <r.patel", b"452 4.2.2 <r.patel")
        .replace(b"Recipient address rejected: User unknown", b"Mailbox full")
    )
    first = parse(message, source="file").failures[0]
    assert (first.kind, first.status) == ("soft", "4.2.2")


def test_a_qmail_bounce() -> None:
    report = parsed("qmail_bounce.msg")
    assert report.kind == REPORT_BOUNCE
    assert report.detail.startswith("qmail")
    (failure,) = report.failures
    assert (failure.address, failure.kind, failure.status) == (
        "t.owusu@harbourside-cc.example.org",
        HARD,
        "5.1.1",
    )
    assert failure.diagnostic == "Sorry, no mailbox here by that name. (#5.1.1)"
    assert report.message_id == "<20261126.1f2e3d4c5b6a79880a1b2c3d@consult.example.gov.uk>"
    # qmail gives its bounces no Message-ID: the digest of the bytes stands in.
    assert re.fullmatch(r"[0-9a-f]{64}", report.fingerprint)


def test_a_postfix_text_bounce_without_its_status_part() -> None:
    message = raw("postfix_dsn.msg")
    boundary = b"--4QkZ3B1n0Lz9sTt.1732443247/relay.example.gov.uk\n"
    start = message.index(boundary + b"Content-Description: Delivery report")
    end = message.index(boundary + b"Content-Description: Undelivered Message Headers")
    report = parse(message[:start] + message[end:], source="file")
    assert report.kind == REPORT_BOUNCE
    assert report.detail.startswith("Postfix text")
    (failure,) = report.failures
    assert (failure.address, failure.kind, failure.status) == (
        "j.fletcher@parish-council.example.org",
        HARD,
        "5.1.1",
    )
    assert report.message_id == "<20261124.5e1c9a0b7d3f42a18c6e90b1@consult.example.gov.uk>"


def test_a_bounce_with_neither_address_nor_code_is_not_understood() -> None:
    message = (
        b"From: MAILER-DAEMON@mx.example.net\n"
        b"Subject: Undeliverable mail\n\n"
        b"Something went wrong with your message.\n"
    )
    report = parse(message, source="file")
    assert report.kind == REPORT_UNKNOWN
    assert report.failures == ()


def test_an_exim_delay_warning_is_no_failure() -> None:
    message = (
        b"Return-path: <>\n"
        b"From: Mail Delivery System <Mailer-Daemon@mx.county-library.example.org>\n"
        b"To: bounces+d39z-3e4f5a6b7c8d9e0f@consult.example.gov.uk\n"
        b"Subject: Warning: message 1tG7qM-00A1b9-1v delayed 24 hours\n"
        b"Auto-Submitted: auto-replied\n"
        b"Message-Id: <E1tGTxA-00B2cD-3y@mx.county-library.example.org>\n\n"
        b"This message was created automatically by mail delivery software.\n"
        b"A message that you sent has not yet been delivered to one or more of its\n"
        b"recipients after more than 24 hours on the queue on mx.county-library.example.org.\n\n"
        b"  r.patel@county-library.example.org\n"
        b"    host mail.county-library.example.org [203.0.113.17]\n"
        b"    Delay reason: SMTP error from remote mail server after RCPT TO:\n"
        b"    451 4.3.0 Temporary lookup failure\n\n"
        b"No action is required on your part. Delivery attempts will continue for\n"
        b"some time, and this warning may be repeated at intervals if the message\n"
        b"remains undelivered. Eventually the mail delivery software will give up,\n"
        b"and when that happens, the message will be returned to you.\n"
    )
    report = parse(message, source="pipe", bounce_address=BOUNCE_ADDRESS)
    assert report.kind == REPORT_DELAY
    assert report.failures == ()


def test_a_postfix_delay_notice_without_its_status_part_is_no_failure() -> None:
    message = raw("delayed_warning.msg")
    boundary = b"--4Ql5Wm2SdMz9sW8.1732544049/relay.example.gov.uk\n"
    start = message.index(boundary + b"Content-Description: Delivery report")
    end = message.index(boundary + b"Content-Description: Undelivered Message Headers")
    trimmed = (message[:start] + message[end:]).replace(
        b"Subject: Delayed Mail (still being retried)", b"Subject: Mail delivery notice"
    )
    assert parse(trimmed, source="file").kind == REPORT_DELAY


def _exchange_parts() -> tuple[bytes, bytes, bytes]:
    """The Microsoft 365 NDR cut around its delivery-status part."""
    message = raw("exchange_ndr.msg")
    boundary = b"--a3c1b2e8-4f7d-4b9e-9c1a-2d5e6f708192\n"
    start = message.index(boundary + b"Content-Type: message/delivery-status")
    end = message.index(boundary + b"Content-Type: message/rfc822")
    return message[:start], message[start:end], message[end:]


def test_a_microsoft_365_ndr_without_its_status_part_is_read_from_its_words() -> None:
    before, _, after = _exchange_parts()
    report = parse(before + after, source="file", bounce_address=BOUNCE_ADDRESS)
    assert report.kind == REPORT_BOUNCE
    assert report.detail.startswith("Exchange text")
    (failure,) = report.failures
    assert (failure.address, failure.kind, failure.status) == (
        "a.khan@northshire-fire.example.gov.uk",
        HARD,
        "5.1.10",
    )
    assert "RESOLVER.ADR.RecipientNotFound" in failure.diagnostic
    assert report.message_id == "<20261124.c4d5e6f708192a3b4c5d6e7f@consult.example.gov.uk>"


def test_a_base64_status_part_is_decoded() -> None:
    before, status, after = _exchange_parts()
    head, _, fields = status.partition(b"\n\n")
    encoded = head + b"\nContent-Transfer-Encoding: base64\n\n" + base64.encodebytes(fields)
    (failure,) = parse(before + encoded + b"\n" + after, source="file").failures
    assert (failure.address, failure.status) == ("a.khan@northshire-fire.example.gov.uk", "5.1.10")


def test_an_international_address_in_a_global_status_part() -> None:
    message = (
        raw("exchange_ndr.msg")
        .replace(b"message/delivery-status", b"message/global-delivery-status")
        .replace(b"rfc822;a.khan@", "utf-8;åsa.khan@".encode())
    )
    (failure,) = parse(message, source="file").failures
    assert failure.address == "åsa.khan@northshire-fire.example.gov.uk"
    assert failure.kind == HARD
