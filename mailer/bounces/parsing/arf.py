"""RFC 5965 abuse reports from feedback loops (Yahoo's, Microsoft's JMRP, Comcast's...):
``multipart/report; report-type=feedback-report``, a ``message/feedback-report`` part,
then the original message or its headers.

Feedback-Type decides:

- ``abuse`` (someone pressed "this is spam") and ``fraud`` (they reported it as a
  scam): a complaint, which unsubscribes and suppresses the person at once.
- a report without a Feedback-Type: a complaint too. The field is required, but a
  feedback loop sends nothing else, and the old loops that predate ARF left it out.
- ``not-spam`` (someone took it out of their spam folder), ``virus`` (a scanner's
  report about the message, not a person's wish) and ``other``, ``auth-failure`` and
  anything new: not a complaint, recorded as not understood (the log says which type).

The recipient is Original-Rcpt-To, else Removal-Recipient; Gmail and Yahoo redact it,
so it may be "": the report is then matched by the Message-ID of the original it
quotes, or by the VERP token of its Return-Path (or of the report's Original-Mail-From).
"""

from __future__ import annotations

from email.message import Message

from mailer.bounces.models import COMPLAINT
from mailer.bounces.parsing import common
from mailer.bounces.reports import REPORT_COMPLAINT, REPORT_UNKNOWN, Failure

FEEDBACK_TYPES = ("message/feedback-report",)
_COMPLAINTS = ("abuse", "fraud", "")


def feedback_part(message: Message) -> Message | None:
    for part in common.walk(message):
        if common.content_type(part) in FEEDBACK_TYPES:
            return part
    return None


def read(message: Message) -> common.Reading | None:
    """What the abuse report says, or None when ``message`` is not one."""
    part = feedback_part(message)
    if part is None:
        return None
    fields = common.field_blocks(part)
    feedback_type = _first(fields, "Feedback-Type").lower().split(";")[0].strip()
    message_id = common.original_message_id(message)
    sender = common.original_return_path(message) or _first(fields, "Original-Mail-From")
    agent = _first(fields, "User-Agent")
    detail = f"RFC 5965 {feedback_type or 'feedback'} report{f' ({agent})' if agent else ''}"
    if feedback_type not in _COMPLAINTS:
        return common.Reading(REPORT_UNKNOWN, detail, (), message_id, sender)
    address = _address(fields)
    diagnostic = " ".join(
        value
        for value in (
            f"Feedback-Type: {feedback_type or 'abuse'}",
            f"from {agent}" if agent else "",
            _first(fields, "Source-IP") and f"(source {_first(fields, 'Source-IP')})",
        )
        if value
    )
    failure = Failure(address=address, kind=COMPLAINT, diagnostic=diagnostic)
    return common.Reading(REPORT_COMPLAINT, detail, (failure,), message_id, sender)


def _first(blocks: list[Message], name: str) -> str:
    for block in blocks:
        value = common.header(block, name)
        if value:
            return value
    return ""


def _address(fields: list[Message]) -> str:
    for name in ("Original-Rcpt-To", "Removal-Recipient"):
        for block in fields:
            for value in common.headers(block, name):
                found = common.addresses([value.rpartition(";")[2]])
                if found and "@" in found[0] and "redacted" not in found[0].lower():
                    return found[0][:320]
    return ""
