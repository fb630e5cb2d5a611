"""RFC 3464 delivery status notifications: ``multipart/report;
report-type=delivery-status``, read with the standard library.

One block of fields per recipient: Action "failed" is a failure (a 5.x.x Status is
hard, whatever its subject and detail digits; a 4.x.x one is soft: the server gave up
on a temporary refusal), "delayed" is a warning, "delivered", "relayed" and "expanded"
say nothing went wrong. Microsoft 365, Gmail, Postfix and Exim all send this form; the
vendor is named in the report's detail, and where a DSN leaves out its Diagnostic-Code
the words the people's part gives for it are taken instead (Exchange's "Remote Server
returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound'").
"""

from __future__ import annotations

import re
from email.message import Message

from mailer.bounces.models import HARD
from mailer.bounces.parsing import common
from mailer.bounces.reports import REPORT_BOUNCE, REPORT_DELAY, REPORT_UNKNOWN, Failure

DSN_TYPES = ("message/delivery-status", "message/global-delivery-status")
_EXCHANGE_REASON = re.compile(r"remote server returned '([^'\n]{1,500})'", re.IGNORECASE)
_CONTINUATION = re.compile(r"\s[245]\d\d[- ](?:[245]\.\d{1,3}\.\d{1,3}\s+)?(?=\S)")
_ADDRESS_TYPE = re.compile(r"^\s*[\w.-]{1,40}\s*;\s*")


def status_part(message: Message) -> Message | None:
    """The message/delivery-status part of ``message``, if it has one."""
    for part in common.walk(message):
        if common.content_type(part) in DSN_TYPES:
            return part
    return None


def read(message: Message) -> common.Reading | None:
    """What the DSN says, or None when ``message`` holds no status part that names a
    recipient (the other readers may still understand it)."""
    part = status_part(message)
    if part is None:
        return None
    blocks = common.field_blocks(part)
    recipients = [b for b in blocks if _has(b, "Final-Recipient", "Original-Recipient")]
    if not recipients:
        return None
    texts = common.report_texts(message)
    vendor = _vendor(message, texts, blocks)
    failures: list[Failure] = []
    seen: set[str] = set()
    delayed = False
    for block in recipients:
        action = common.header(block, "Action").lower().split(";")[0].strip()
        status = common.status_in(common.header(block, "Status"))
        diagnostic = _unrepeated(_without_type(common.header(block, "Diagnostic-Code")))
        if not action and status:
            action = "failed" if status.startswith("5") else "delayed"
        if action == "delayed":
            delayed = True
            continue
        if action != "failed":
            continue
        address = _address(block)
        if address.casefold() in seen:
            continue
        seen.add(address.casefold())
        diagnostic = diagnostic or _reason_in(texts, address)
        status = status or common.status_in(diagnostic)
        kind = common.failure_kind(status, diagnostic) or HARD
        failures.append(
            Failure(address=address, kind=kind, status=status, diagnostic=diagnostic[:2000])
        )
    message_id = common.original_message_id(message, inline_text=_inline_original(message))
    detail = f"RFC 3464{f' ({vendor})' if vendor else ''}"
    sender = common.original_return_path(message)
    if failures:
        return common.Reading(REPORT_BOUNCE, detail, tuple(failures), message_id, sender)
    if delayed:
        return common.Reading(REPORT_DELAY, f"{detail}: delayed", (), message_id, sender)
    return common.Reading(REPORT_UNKNOWN, f"{detail}: nothing failed", (), message_id, sender)


def _has(block: Message, *names: str) -> bool:
    return any(common.header(block, name) for name in names)


def _address(block: Message) -> str:
    """The address we sent to: Original-Recipient when the DSN kept it (the server
    may have rewritten it to the Final-Recipient), else Final-Recipient."""
    for name in ("Original-Recipient", "Final-Recipient"):
        value = _without_type(common.header(block, name)).strip().strip("<>").strip()
        if value and "@" in value:
            return value[:320]
    return _without_type(common.header(block, "Final-Recipient")).strip("<> ")[:320]


def _without_type(value: str) -> str:
    """ "rfc822; a@b" -> "a@b", "smtp; 550 ..." -> "550 ..."."""
    return _ADDRESS_TYPE.sub("", value, count=1).strip()


def _unrepeated(diagnostic: str) -> str:
    """A multi-line reply with its repeated codes ("550-5.1.1 ...") said once."""
    head, rest = diagnostic[:16], diagnostic[16:]
    return head + _CONTINUATION.sub(" ", rest)


def _reason_in(texts: str, address: str) -> str:
    """The reason the people's part gives, for a DSN without a Diagnostic-Code."""
    match = _EXCHANGE_REASON.search(texts)
    if match:
        return common.one_line(match.group(1))
    if address:
        for line in texts.splitlines():
            if address.casefold() in line.casefold() and common.failure_kind("", line):
                return common.one_line(line)[:500]
    return ""


def _inline_original(message: Message) -> str:
    """A report that quotes the original message as plain text (its third part)."""
    try:
        parts = message.get_payload()
    except Exception:
        return ""
    if not isinstance(parts, list):
        return ""
    return "\n".join(
        common.text_of(part)
        for part in parts[2:]
        if isinstance(part, Message) and common.content_type(part) == "text/plain"
    )


def _vendor(message: Message, texts: str, blocks: list[Message]) -> str:
    """Who wrote the DSN, as far as its marks tell (for the log and the bounces page)."""
    mta = " ".join(common.header(block, "Reporting-MTA") for block in blocks).lower()
    sender = common.header(message, "From").lower()
    lowered = texts.lower()
    if (
        common.header(message, "X-MS-Exchange-Message-Is-Ndr")
        or "outlook.com" in mta
        or "remote server returned" in lowered
        or "delivery has failed to these recipients" in lowered
    ):
        return "Exchange"
    if "googlemail.com" in sender or "google.com" in mta or "googlemail.com" in mta:
        return "Gmail"
    if "this is the mail system at host" in lowered or any(
        common.header(block, "X-Postfix-Queue-ID") for block in blocks
    ):
        return "Postfix"
    if "created automatically by mail delivery software" in lowered:
        return "Exim"
    return ""
