"""RFC 3464 delivery status notifications."""

from __future__ import annotations

from mailer.bounces.models import HARD, SOFT
from mailer.bounces.parsing import parse
from mailer.bounces.reports import REPORT_BOUNCE, REPORT_DELAY, REPORT_UNKNOWN

from .fixtures import BOUNCE_ADDRESS, parsed, raw


def test_a_postfix_dsn_is_a_hard_bounce_of_the_quoted_message() -> None:
    report = parsed("postfix_dsn.msg")
    assert report.kind == REPORT_BOUNCE
    assert report.detail == "RFC 3464 (Postfix)"
    (failure,) = report.failures
    assert failure.address == "j.fletcher@parish-council.example.org"
    assert failure.kind == HARD
    assert failure.status == "5.1.1"
    assert failure.diagnostic.startswith("550 5.1.1 <j.fletcher@parish-council.example.org>:")
    assert "User unknown in virtual mailbox table" in failure.diagnostic
    # From the text/rfc822-headers part, as our deliveries store it.
    assert report.message_id == "<20261124.5e1c9a0b7d3f42a18c6e90b1@consult.example.gov.uk>"
    assert report.verp_token == "d39u-9a8f1179b5a1b9e7"
    assert report.fingerprint == "<20261124101407.4QkZ3B1n0Lz9sTt@relay.example.gov.uk>"
    assert report.subject == "Undelivered Mail Returned to Sender"
    assert report.raw == raw("postfix_dsn.msg")
    assert report.trusted is False
    assert report.source == "mailbox"


def test_a_mailbox_full_after_retries_is_soft() -> None:
    report = parsed("soft_mailbox_full.msg")
    assert report.kind == REPORT_BOUNCE
    (failure,) = report.failures
    assert (failure.address, failure.kind, failure.status) == (
        "clerk@smallvillage-pc.example.org",
        SOFT,
        "4.2.2",
    )
    # From the message/rfc822 part.
    assert report.message_id == "<20261124.77d0e3b5a2c94f6618ab0c3d@consult.example.gov.uk>"


def test_a_delay_warning_is_no_failure() -> None:
    report = parsed("delayed_warning.msg")
    assert report.kind == REPORT_DELAY
    assert report.failures == ()
    assert report.message_id == "<20261125.a1b2c3d4e5f60718293a4b5c@consult.example.gov.uk>"


def _dsn(*blocks: str, original: str = "") -> bytes:
    parts = "\n".join(
        f"Final-Recipient: rfc822; {b}" if "@" in b and ":" not in b else b for b in blocks
    )
    return (
        "From: MAILER-DAEMON@mx.example.net\n"
        "To: bounces@consult.example.gov.uk\n"
        "Subject: Returned mail\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n'
        "\n--b\nContent-Type: text/plain\n\nIt failed.\n"
        "\n--b\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example.net\n\n"
        f"{parts}\n"
        f"{original}"
        "\n--b--\n"
    ).encode()


def test_every_permanent_status_is_hard_not_only_5_1_x() -> None:
    for status in ("5.7.1", "5.2.1", "5.4.4", "5.0.0", "5.3.0"):
        report = parse(
            _dsn(f"Final-Recipient: rfc822; a@example.net\nAction: failed\nStatus: {status}\n"),
            source="file",
        )
        assert [(f.kind, f.status) for f in report.failures] == [(HARD, status)]


def test_each_recipient_block_is_read_on_its_own() -> None:
    report = parse(
        _dsn(
            "Final-Recipient: rfc822; gone@example.net\nAction: failed\nStatus: 5.1.1\n\n"
            "Final-Recipient: rfc822; full@example.net\nAction: failed\nStatus: 4.2.2\n\n"
            "Final-Recipient: rfc822; fine@example.net\nAction: delivered\nStatus: 2.0.0\n\n"
            "Final-Recipient: rfc822; slow@example.net\nAction: delayed\nStatus: 4.4.7\n"
        ),
        source="file",
    )
    assert report.kind == REPORT_BOUNCE
    assert [(f.address, f.kind) for f in report.failures] == [
        ("gone@example.net", HARD),
        ("full@example.net", SOFT),
    ]


def test_original_recipient_is_the_address_we_sent_to() -> None:
    report = parse(
        _dsn(
            "Original-Recipient: rfc822;office@parish.example.org\n"
            "Final-Recipient: rfc822; office@mailhost.parish.example.org\n"
            "Action: failed\nStatus: 5.1.1\n"
        ),
        source="file",
    )
    assert report.failures[0].address == "office@parish.example.org"


def test_a_dsn_of_delivery_says_nothing_failed() -> None:
    report = parse(
        _dsn("Final-Recipient: rfc822; fine@example.net\nAction: relayed\nStatus: 2.0.0\n"),
        source="file",
    )
    assert report.kind == REPORT_UNKNOWN
    assert report.failures == ()


def test_the_status_is_taken_from_the_diagnostic_when_missing() -> None:
    report = parse(
        _dsn(
            "Final-Recipient: rfc822; a@example.net\nAction: failed\n"
            "Diagnostic-Code: smtp; 554 5.7.1 Message rejected as spam\n"
        ),
        source="file",
    )
    (failure,) = report.failures
    assert (failure.kind, failure.status) == (HARD, "5.7.1")
    assert failure.diagnostic == "554 5.7.1 Message rejected as spam"


def test_an_inline_original_gives_its_message_id() -> None:
    report = parse(
        _dsn(
            "Final-Recipient: rfc822; a@example.net\nAction: failed\nStatus: 5.1.1\n",
            original=(
                "\n--b\nContent-Type: text/plain\n\n"
                "From: consult@consult.example.gov.uk\n"
                "Message-ID: <20261124.abc@consult.example.gov.uk>\n"
                "Subject: Have your say\n"
            ),
        ),
        source="file",
        bounce_address=BOUNCE_ADDRESS,
    )
    assert report.message_id == "<20261124.abc@consult.example.gov.uk>"
    # No Message-ID of its own: the digest of its bytes identifies it.
    assert len(report.fingerprint) == 64
