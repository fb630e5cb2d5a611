"""RFC 5965 abuse reports from feedback loops."""

from __future__ import annotations

import pytest

from mailer.bounces.models import COMPLAINT
from mailer.bounces.parsing import parse
from mailer.bounces.reports import REPORT_COMPLAINT, REPORT_UNKNOWN

from .fixtures import BOUNCE_ADDRESS, parsed, raw


def test_a_microsoft_jmrp_abuse_report_is_a_complaint_by_the_recipient() -> None:
    report = parsed("arf_abuse_jmrp.msg")
    assert report.kind == REPORT_COMPLAINT
    assert report.detail == "RFC 5965 abuse report (Hotmail FBL)"
    (failure,) = report.failures
    assert failure.kind == COMPLAINT
    assert failure.address == "m.jones.haverbridge@outlook.com"
    assert "abuse" in failure.diagnostic
    assert report.message_id == "<20261126.44aa55bb66cc77dd88ee99ff@consult.example.gov.uk>"
    # Sent to the feedback address, not a tokened one: the token of the quoted
    # original's Return-Path names the delivery.
    assert report.recipients == ("fbl@consult.example.gov.uk", "fbl@consult.example.gov.uk")
    assert report.verp_token == "d3a1-0e1f2a3b4c5d6e7f"


def test_a_redacted_report_is_a_complaint_about_the_quoted_message() -> None:
    report = parsed("arf_redacted_yahoo.msg")
    assert report.kind == REPORT_COMPLAINT
    (failure,) = report.failures
    assert (failure.kind, failure.address) == (COMPLAINT, "")
    assert report.message_id == "<20261126.5a6b7c8d9e0f1a2b3c4d5e6f@consult.example.gov.uk>"
    # Only in the report's Original-Mail-From.
    assert report.verp_token == "d3a2-7f6e5d4c3b2a1908"


def test_without_a_bounce_address_no_token_is_looked_for() -> None:
    report = parse(raw("arf_abuse_jmrp.msg"), source="mailbox")
    assert report.kind == REPORT_COMPLAINT
    assert report.verp_token == ""


@pytest.mark.parametrize("feedback_type", ["not-spam", "virus", "other", "auth-failure"])
def test_reports_that_are_no_wish_to_stop_are_not_complaints(feedback_type: str) -> None:
    message = raw("arf_abuse_jmrp.msg").replace(
        b"Feedback-Type: abuse", f"Feedback-Type: {feedback_type}".encode()
    )
    report = parse(message, source="mailbox", bounce_address=BOUNCE_ADDRESS)
    assert report.kind == REPORT_UNKNOWN
    assert report.failures == ()
    assert feedback_type in report.detail


def test_a_fraud_report_is_a_complaint() -> None:
    message = raw("arf_abuse_jmrp.msg").replace(b"Feedback-Type: abuse", b"Feedback-Type: fraud")
    assert parse(message, source="mailbox").kind == REPORT_COMPLAINT


def test_removal_recipient_names_the_person_when_original_rcpt_to_is_missing() -> None:
    message = raw("arf_redacted_yahoo.msg").replace(
        b"Version: 0.1\n", b"Version: 0.1\nRemoval-Recipient: reader@yahoo.co.uk\n"
    )
    (failure,) = parse(message, source="mailbox").failures
    assert failure.address == "reader@yahoo.co.uk"
