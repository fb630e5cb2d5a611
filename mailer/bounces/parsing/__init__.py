"""Understanding what came back: one returned message in, one :class:`Report` out.

``parse`` reads a message that came to the bounce address (from the mailbox, the pipe or
a file) and says what it is. It never raises on what arrived, however broken: what it
cannot understand is ``REPORT_UNKNOWN``. The one exception is :class:`Unreadable`, for
bytes that are not an email message at all (empty, or no header block), so that the
pipe command can tell the mail server "unreadable" (exit 1) apart from "understood and
ignored" (exit 0).

The readers, in the order they are tried:

1. ``dsn``: an RFC 3464 delivery status notification (Microsoft 365, Gmail, Postfix,
   Exim all send one). A delivery-status part wins over every other mark, so a DSN
   that also says ``Auto-Submitted: auto-replied`` is still a bounce.
2. ``arf``: an RFC 5965 abuse report from a feedback loop: a complaint.
3. ``auto_replies``: an RFC 3834 automatic reply (out of office): ignored, and tried
   before the heuristics so that no out-of-office ever counts as a bounce. Bounces
   carry some of the same marks; a message with a bounce's marks (a mailer-daemon
   sender, X-Failed-Recipients, a bounce's subject) is not taken for one.
4. An unsubscribe request: a message to ``[bounces] address`` with a ``u`` token in
   it (the ``mailto:`` of List-Unsubscribe). Processing checks the token.
5. ``heuristics``: the bounces in no standard form (Exim, qmail, Postfix and
   Exchange text...), for a message with a bounce's marks or one that came to the
   bounce address of a delivery (a ``d`` token): flufl.bounce finds the addresses,
   the status and diagnostic are read from the paragraph that names each. A bounce
   in which no address is found but a status code is still counts, for the delivery
   its token or quoted Message-ID names.

Anything else is ``REPORT_UNKNOWN``.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import replace
from email import message_from_bytes
from email.message import Message

from mailer.bounces.parsing import arf, auto_replies, common, dsn, heuristics
from mailer.bounces.reports import (
    REPORT_AUTO_REPLY,
    REPORT_UNKNOWN,
    REPORT_UNSUBSCRIBE,
    Report,
)
from mailer.delivery import verp

__all__ = ["Unreadable", "parse"]

log = logging.getLogger(__name__)

# Only this much of a message is read: the report's own parts come first, and what
# follows (the original message with its attachments) is not needed to understand it.
MAX_READ = 2 * 1024 * 1024


class Unreadable(Exception):
    """The bytes are not an email message at all: empty, or no header block to read.

    Anything with a header block is a message, however broken, and ``parse`` gives a
    Report for it (``REPORT_UNKNOWN`` when it says nothing we understand). The pipe
    command exits 1 on this, 0 on any Report.
    """


def parse(
    raw: bytes, *, source: str, bounce_address: str = "", envelope_recipient: str = ""
) -> Report:
    """What ``raw`` (one message as it arrived) says; see the module's description.

    ``bounce_address`` is ``[bounces] address``: a recipient that is it with a token
    in it names the delivery (or, with a ``u`` token, asks to unsubscribe).
    ``envelope_recipient`` is the address the mail server delivered it to, when known
    (the pipe's ``$RECIPIENT``)."""
    if isinstance(raw, str):  # a caller that read text: the same message
        raw = raw.encode("utf-8", errors="surrogateescape")
    message = _message(raw)
    base = _report(message, raw, source, bounce_address, envelope_recipient)
    unsubscribe = _unsubscribe_token(base.recipients, bounce_address)
    try:
        reading = _read(message, token=base.verp_token, unsubscribe=bool(unsubscribe))
    except Exception:  # a reader tripped on something new: ignored, never a crash
        log.warning(
            "%s message %s could not be read; ignored", source, base.fingerprint, exc_info=True
        )
        return replace(base, detail="not understood: a reader failed on it")
    token = unsubscribe if reading.kind == REPORT_UNSUBSCRIBE else base.verp_token
    if not token and bounce_address and reading.original_sender:
        found = verp.token_in([reading.original_sender], bounce_address)
        token = found if found.startswith(verp.BOUNCE) else ""
    return Report(
        kind=reading.kind,
        source=source,
        fingerprint=base.fingerprint,
        failures=reading.failures,
        message_id=reading.message_id,
        verp_token=token,
        recipients=base.recipients,
        subject=base.subject,
        raw=raw,
        trusted=False,
        detail=reading.detail,
    )


def _message(raw: bytes) -> Message:
    if not raw.strip():
        raise Unreadable("the message is empty")
    try:
        message = message_from_bytes(raw[:MAX_READ])
    except Exception as error:
        raise Unreadable("the bytes could not be read as an email message") from error
    try:
        named = [name for name in message if name.strip()]
    except Exception:
        named = []
    if not named:
        raise Unreadable("there is no header block: this is not an email message")
    return message


def _report(
    message: Message, raw: bytes, source: str, bounce_address: str, envelope_recipient: str
) -> Report:
    """The Report every reading starts from: what identifies the message and where it
    was delivered, kind unknown."""
    own_id = common.message_id(common.header(message, "Message-ID"))
    fingerprint = own_id or hashlib.sha256(raw).hexdigest()
    recipients = [common.one_line(envelope_recipient)] if envelope_recipient.strip() else []
    recipients += common.headers(message, "Delivered-To")
    recipients += common.headers(message, "X-Original-To")
    recipients += common.addresses(common.headers(message, "To"))
    token = verp.token_in(recipients, bounce_address) if bounce_address else ""
    return Report(
        kind=REPORT_UNKNOWN,
        source=source,
        fingerprint=fingerprint,
        verp_token=token,
        recipients=tuple(r for r in recipients if r),
        subject=common.header(message, "Subject")[:300],
        raw=raw,
        trusted=False,
        detail="not understood",
    )


def _unsubscribe_token(recipients: tuple[str, ...], bounce_address: str) -> str:
    """The ``u`` token of a recipient that is the bounce address, or ""."""
    if not bounce_address:
        return ""
    for recipient in recipients:
        token = verp.token_in([recipient], bounce_address)
        if token.startswith(verp.UNSUBSCRIBE):
            return token
    return ""


def _read(message: Message, *, token: str, unsubscribe: bool) -> common.Reading:
    """The first reader's understanding of ``message``; see the module's description."""
    for reader in (dsn.read, arf.read):
        found = reader(message)
        if found is not None:
            return found
    bounce_mark = auto_replies.looks_like_bounce(message)
    if not bounce_mark and dsn.status_part(message) is not None:
        bounce_mark = "a status part naming no recipient"
    auto_mark = "" if bounce_mark else auto_replies.is_auto_reply(message)
    if unsubscribe and auto_mark == auto_replies.ECHOED_SUPPRESS:
        auto_mark = ""  # a person's request, from a mail system that marks everything
    if auto_mark:
        return common.Reading(REPORT_AUTO_REPLY, f"RFC 3834 auto-reply ({auto_mark})")
    if unsubscribe:
        return common.Reading(REPORT_UNSUBSCRIBE, "unsubscribe request")
    to_delivery = token.startswith(verp.BOUNCE)
    if bounce_mark or to_delivery:
        hint = bounce_mark or "sent to a delivery's bounce address"
        found = heuristics.read(message, hint=hint) or heuristics.without_address(
            message, hint=hint
        )
        if found is not None:
            return found
        return common.Reading(REPORT_UNKNOWN, f"a bounce naming no address ({hint})")
    return common.Reading(REPORT_UNKNOWN, "not understood")
