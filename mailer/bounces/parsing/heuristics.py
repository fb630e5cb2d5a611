"""Bounces in no standard form: Exim's "Mail delivery failed", qmail's "Hi. This is the
qmail-send program", Postfix's and Exchange's text without a status part, and the
others GNU Mailman's detectors know (flufl.bounce finds the addresses).

The status and the remote server's words are found here, in the paragraph that names
the address: the enhanced code (``5.1.1``) if there is one, else the SMTP reply code
(``550``). 5 is hard and 4 is soft; where the text gives neither, what the detector
says (permanent: hard, temporary: soft).
"""

from __future__ import annotations

import logging
import re
from email.message import Message

from flufl.bounce import all_failures

from mailer.bounces.models import HARD, SOFT
from mailer.bounces.parsing import common
from mailer.bounces.reports import REPORT_BOUNCE, REPORT_DELAY, Failure

log = logging.getLogger(__name__)

# Where a text bounce starts quoting the original message: what follows is not the
# report (and is where the original's Message-ID is).
_ORIGINAL_STARTS = re.compile(
    r"^[ \t>*=_-]{0,12}(?:"
    r"this is a copy of the message|below this line is a copy of the message|"
    r"enclosed is a copy of the message|original message follows|"
    r"original message headers|undelivered message follows|copy of the original message|"
    r"original message -"
    r").*$",
    re.IGNORECASE | re.MULTILINE,
)
_POSTFIX_ADDRESS = re.compile(r"^<([^<>\s@]{1,64}@[^<>\s]{1,255})>:", re.MULTILINE)
_ADDRESS = r"<?([^\s<>()'\"@]{1,64}@[A-Za-z0-9.-]{1,250}[A-Za-z0-9])>?"
_EXCHANGE_ADDRESS = re.compile(
    rf"your message to {_ADDRESS} couldn\S?t be delivered|"
    rf"^[ \t]*{_ADDRESS}[ \t]*\r?\n[ \t]*remote server returned",
    re.IGNORECASE | re.MULTILINE,
)
_PARAGRAPH_END = re.compile(r"\n[ \t]*\n")
# A warning that the server is still trying (Exim's "Warning: message ... delayed",
# sendmail's "Warning: could not send message for past 4 hours", Postfix's notice).
_DELAY_SUBJECT = re.compile(
    r"delayed|still being retried|\(delay\)|warning: could not send", re.IGNORECASE
)
_DELAY_WORDS = re.compile(
    r"this is a warning only|you do not need to resend your message", re.IGNORECASE
)
_MAX_DIAGNOSTIC = 1000


def read(message: Message, *, hint: str) -> common.Reading | None:
    """The failures a non-standard bounce names, or None when no address is found.
    ``hint`` is the mark that made it look like a bounce (for the detail)."""
    text = common.report_texts(message)
    report, original = _split(text)
    form = _form(message, text)
    message_id = common.original_message_id(message, inline_text=original)
    sender = common.original_return_path(message)
    subject = common.header(message, "Subject")
    if _DELAY_SUBJECT.search(subject) or _DELAY_WORDS.search(report):
        return common.Reading(REPORT_DELAY, f"{form}: delayed", (), message_id, sender)
    try:
        temporary, permanent = all_failures(message)
    except Exception:  # a detector tripped on this message: no addresses from it
        log.info("flufl.bounce could not read a %s bounce", form, exc_info=True)
        temporary, permanent = frozenset(), frozenset()
    if not temporary and not permanent and form in _OWN_DETECTORS:
        permanent = frozenset(_OWN_DETECTORS[form](report))
    named: dict[str, tuple[str, str]] = {}
    for found, default in ((permanent, HARD), (temporary, SOFT)):
        for raw_address in found:
            address = raw_address.decode("utf-8", errors="replace").strip().strip("<>")
            if address and address.casefold() not in named:
                named[address.casefold()] = (address, default)
    failures = [
        _failure(address, report, default, only=len(named) == 1)
        for address, default in named.values()
    ]
    # In the order the report names them (the detectors hand back a set).
    failures.sort(key=lambda failure: _position(failure.address, report))
    if not failures:
        return None
    detail = f"{form} ({hint})" if hint else form
    return common.Reading(REPORT_BOUNCE, detail, tuple(failures), message_id, sender)


def without_address(message: Message, *, hint: str) -> common.Reading | None:
    """A bounce no detector found an address in, that still gives a status code: the
    VERP token of the address it came to names the delivery. None without a code."""
    report, original = _split(common.report_texts(message))
    kind = common.failure_kind(common.status_in(report), report)
    if not kind:
        return None
    status, diagnostic = _status_and_words(report)
    message_id = common.original_message_id(message, inline_text=original)
    failure = Failure(address="", kind=kind, status=status, diagnostic=diagnostic)
    form = _form(message, report)
    return common.Reading(
        REPORT_BOUNCE,
        f"{form} ({hint}), no address",
        (failure,),
        message_id,
        common.original_return_path(message),
    )


def _postfix_addresses(report: str) -> set[bytes]:
    """The addresses a Postfix notice names, each at the start of its paragraph as
    ``<a@b>: reason`` (flufl.bounce knows only the older "The Postfix program" text)."""
    return {match.group(1).encode("utf-8") for match in _POSTFIX_ADDRESS.finditer(report)}


def _exchange_addresses(report: str) -> set[bytes]:
    """The addresses an Exchange or Microsoft 365 NDR without its status part names:
    "Your message to a@b couldn't be delivered", and the line above each "Remote
    Server returned '...'" in its part for administrators."""
    found = {match.group(1) or match.group(2) for match in _EXCHANGE_ADDRESS.finditer(report)}
    return {address.encode("utf-8") for address in found}


_OWN_DETECTORS = {"Postfix text": _postfix_addresses, "Exchange text": _exchange_addresses}


def _split(text: str) -> tuple[str, str]:
    """The report's own words, and the original message it quotes inline."""
    match = _ORIGINAL_STARTS.search(text)
    if match is None:
        return text, text
    return text[: match.start()], text[match.start() :]


def _failure(address: str, report: str, default: str, *, only: bool) -> Failure:
    """``address``'s failure, from the paragraph that names it; when it is the only
    address and its paragraph gives no code, the code anywhere in the report (Gmail
    names the address in one paragraph and quotes the server's reply in the next)."""
    paragraph = _paragraph_of(address, report)
    if only and not common.failure_kind("", paragraph):
        paragraph = report
    first, _, rest = paragraph.strip().partition("\n")
    if first.strip().strip("<>:").strip().lower() == address.lower() and rest.strip():
        paragraph = rest  # the address on a line of its own (Exim, qmail): not a reason
    status, diagnostic = _status_and_words(paragraph)
    kind = common.failure_kind(status, diagnostic) or default
    return Failure(address=address[:320], kind=kind, status=status, diagnostic=diagnostic)


def _position(address: str, report: str) -> tuple[int, str]:
    found = report.lower().find(address.lower())
    return (found if found >= 0 else len(report), address)


def _paragraph_of(address: str, report: str) -> str:
    """The paragraph that names ``address`` and gives a code (the first that names
    it when none gives one); the whole report when none names it."""
    lowered = report.lower()
    needle = address.lower()
    first = ""
    start = lowered.find(needle)
    while start >= 0:
        line_start = report.rfind("\n", 0, start) + 1
        end = _PARAGRAPH_END.search(report, start)
        paragraph = report[line_start : end.start() if end else len(report)]
        if common.failure_kind("", paragraph):
            return paragraph
        first = first or paragraph
        start = lowered.find(needle, start + len(needle))
    return first or report


def _status_and_words(paragraph: str) -> tuple[str, str]:
    """The enhanced status code in ``paragraph`` and the words of the line that gives
    a code, with the lines that continue it."""
    status = common.status_in(paragraph)
    lines = paragraph.splitlines()
    for index, line in enumerate(lines):
        if common.failure_kind("", line):
            words = [line.strip()]
            for more in lines[index + 1 :]:
                if not more.strip():
                    break
                words.append(more.strip())
            return status, common.one_line(" ".join(words))[:_MAX_DIAGNOSTIC]
    return status, common.one_line(paragraph)[:_MAX_DIAGNOSTIC]


def _form(message: Message, text: str) -> str:
    """Which mail software wrote it, by its words (for the detail)."""
    lowered = text.lower()
    if "this is the qmail-send program" in lowered:
        return "qmail"
    if "googlemail.com" in common.header(message, "From").lower():
        return "Gmail text"
    if "this is the mail system at host" in lowered:
        return "Postfix text"
    if (
        "x-ms-exchange-message-is-ndr" in message
        or "remote server returned" in lowered
        or "delivery has failed to these recipients" in lowered
    ):
        return "Exchange text"
    if "x-failed-recipients" in message or "mail delivery software" in lowered:
        return "Exim text"
    return "bounce text"
