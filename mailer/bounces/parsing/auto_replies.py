"""RFC 3834 automatic replies (out of office, vacation, "this mailbox is not
monitored"): never a bounce, whatever words they use.

An auto-reply is recognised by its marks: ``Auto-Submitted`` with any value but "no",
``X-Autoreply``, ``X-Autorespond``, ``Precedence: auto_reply``, an echoed
``X-Auto-Response-Suppress``, Exchange's marks of a message its rules made, or a subject
that says so in one of the usual languages. Mail delivery software marks its bounces
``Auto-Submitted: auto-replied`` too, so a message that also carries a bounce's marks
(:func:`looks_like_bounce`) is left to the bounce readers.
"""

from __future__ import annotations

import re
from email.message import Message

from mailer.bounces.parsing import common

_SUBJECTS = re.compile(
    r"^\s*(?:"
    r"automatic reply|auto(?:matic)?[- ]?(?:reply|response|antwort)|autoreply|"
    r"out of (?:the )?office|ooo\b|away from (?:the|my) office|on (?:annual )?leave|"
    r"auto\s*:|autosvar|automatisk svar|automatische antwort|abwesenheitsnotiz|"
    r"r[ée]ponse automatique|absence du bureau|respuesta autom[áa]tica|"
    r"fuera de la oficina|risposta automatica|fuori sede|automatisch antwoord|"
    r"afwezig|resposta autom[áa]tica|automaattinen vastaus|automatyczna odpowied"
    r")",
    re.IGNORECASE,
)
# Exchange marks what a mailbox's rules (the out-of-office assistant among them) made.
_EXCHANGE_RULES = re.compile(r"mailbox rules agent|inbox rules|auto-?reply|oof", re.IGNORECASE)
_BOUNCE_SUBJECTS = re.compile(
    r"^\s*(?:"
    r"undeliver(?:able|ed)|mail delivery (?:failed|failure|system)|delivery (?:status "
    r"notification \((?:failure|delay)\)|failure|has failed|notification)|failure notice|"
    r"returned mail|delivery failure|non[- ]?delivery|mail system error|"
    r"message not delivered|could not deliver|warning: message .* delayed|"
    r"address not found"
    r")",
    re.IGNORECASE,
)
# The weakest mark: what a message asks of the replies to it, echoed by some responders
# into their reply, but sent by some mail systems on any message.
ECHOED_SUPPRESS = "X-Auto-Response-Suppress"
_DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon", "mdaemon")


def is_auto_reply(message: Message) -> str:
    """The mark that makes ``message`` an automatic reply (for the report's detail),
    or "" when it has none."""
    submitted = common.header(message, "Auto-Submitted").split(";")[0].strip().lower()
    if submitted and submitted != "no":
        return f"Auto-Submitted: {submitted}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Vacation"):
        if name in message:
            return name
    if common.header(message, "Precedence").lower() == "auto_reply":
        return "Precedence: auto_reply"
    if "X-Auto-Response-Suppress" in message:
        return ECHOED_SUPPRESS
    source = common.header(message, "X-MS-Exchange-Generated-Message-Source")
    if source and _EXCHANGE_RULES.search(source):
        return "Exchange rules"
    if common.header(message, "X-MS-Exchange-Inbox-Rules-Loop"):
        return "Exchange rules"
    subject = common.header(message, "Subject")
    if _SUBJECTS.match(subject):
        return f"subject {subject[:40]!r}"
    return ""


def looks_like_bounce(message: Message) -> str:
    """The mark that says mail delivery software wrote ``message`` (a bounce, however
    non-standard), or ""."""
    if "X-Failed-Recipients" in message:
        return "X-Failed-Recipients"
    if "X-MS-Exchange-Message-Is-Ndr" in message:
        return "Exchange NDR"
    sender = " ".join(common.addresses(common.headers(message, "From"))).lower()
    local = sender.partition("@")[0]
    if local in _DAEMONS:
        return f"from {local}"
    subject = common.header(message, "Subject")
    if _BOUNCE_SUBJECTS.match(subject):
        return f"subject {subject[:40]!r}"
    return ""
