"""Why a message came back, in words a comms officer reads: the enhanced status code
(RFC 3463, "5.1.1") turned into a short plain sentence, and the server's own words
without the codes repeated at their start.

A server's text is not written for people ("5.1.1 550 5.1.1 <x>: Recipient address
rejected: User unknown in virtual mailbox table"); the pages show ``explain`` first and
``detail`` after it, smaller. Both are pure: no database, no configuration.
"""

from __future__ import annotations

import re

from mailer.bounces.models import COMPLAINT

# An enhanced status code: class.subject.detail (RFC 3463 section 2).
_ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
# A basic SMTP reply code (RFC 5321) at the start of the words, when no enhanced one.
_BASIC = re.compile(r"^\s*(?:smtp\s*;\s*)?([45])\d\d\b", re.IGNORECASE)
# The codes a server's words start with, often more than once: "5.1.1 550 5.1.1 ",
# "550-5.1.1 ", "smtp; 550 ".
_LEADING_CODES = re.compile(
    r"^(?:\s*(?:(?:smtp|x-postfix|x-unix)\s*;|[245]\d\d(?=[ -])-?|[245]\.\d{1,3}\.\d{1,3}\b))+\s*",
    re.IGNORECASE,
)

DOES_NOT_EXIST = "The address does not exist"
NO_DOMAIN = "The address's domain does not exist"
DISABLED = "The mailbox is disabled"
FULL = "The mailbox is full"
POLICY = "The receiving server refused it by its policy (often spam filtering)"
TEMPORARY = "A temporary problem at the receiving server"
SPAM = "Marked the message as spam"
REFUSED = "The receiving server refused it"
UNDELIVERED = "The message could not be delivered"

# Subject.detail of the 5.x.x and 4.x.x codes whose meaning is plain enough to say.
_BY_CODE = {
    (1, 1): DOES_NOT_EXIST,
    (1, 2): NO_DOMAIN,
    # Microsoft uses 5.1.10 for "RecipientNotFound": the address, not its domain.
    (1, 10): DOES_NOT_EXIST,
    (1, 3): "The address is not written correctly",
    (2, 1): DISABLED,
    (2, 2): FULL,
    (2, 3): "The message is larger than the mailbox accepts",
    (3, 4): "The message is larger than the receiving server accepts",
    (4, 4): NO_DOMAIN,
}

# When there is no code: a few phrases servers commonly use, lowest case.
_BY_WORDS = (
    (("mailbox full", "mailbox is full", "quota", "insufficient storage"), FULL),
    (("disabled", "inactive", "deactivated"), DISABLED),
    (("host not found", "domain not found", "no mx", "nxdomain"), NO_DOMAIN),
    (
        ("user unknown", "unknown user", "no such user", "does not exist", "not found"),
        DOES_NOT_EXIST,
    ),
    (("spam", "blocked", "blacklist", "blocklist", "policy"), POLICY),
)


def code_in(status: str, diagnostic: str) -> str:
    """The enhanced status code of a bounce: its own, or the first in the words."""
    for text in (status, diagnostic):
        found = _ENHANCED.search(text or "")
        if found:
            return found.group(0)
    return ""


def explain(*, kind: str, status: str, diagnostic: str) -> str:
    """A short plain-English reason the message came back."""
    if kind == COMPLAINT:
        return SPAM
    code = code_in(status, diagnostic)
    if code:
        klass, subject, detail_ = (int(part) for part in code.split("."))
        known = _BY_CODE.get((subject, detail_))
        if known == FULL or (known and klass == 5):
            return known
        if klass == 4:
            return TEMPORARY
        if klass == 5 and subject == 7:
            return POLICY
    words = (diagnostic or "").casefold()
    for phrases, reason in _BY_WORDS:
        if any(phrase in words for phrase in phrases):
            return reason
    basic = _BASIC.match(diagnostic or "")
    klass_ = code[:1] or (basic.group(1) if basic else "")
    if klass_ == "4":
        return TEMPORARY
    if klass_ == "5":
        return REFUSED
    return UNDELIVERED


def detail(status: str, diagnostic: str) -> str:
    """The server's own words, without the codes repeated at their start."""
    words = (diagnostic or "").strip()
    stripped = _LEADING_CODES.sub("", words).strip()
    return stripped or words or (status or "").strip()


def forwarded(*, sent_to: str, reported: str) -> str:
    """The sentence a bounce's outcome gains when the report names another address
    than the one we sent to (the mailbox forwarded it there), or ""."""
    if not sent_to or not reported or reported.strip().casefold() == sent_to.strip().casefold():
        return ""
    return f"The report names {reported.strip()[:200]}, which the message was forwarded to."
