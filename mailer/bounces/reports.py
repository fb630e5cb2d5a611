"""What came back, understood: the one shape every way in produces.

A parser (``mailer.bounces.parsing``) or a webhook (``mailer.bounces.webhooks``) turns
what arrived into a :class:`Report`; ``mailer.bounces.processing.record`` acts on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mailer.bounces.models import COMPLAINT, HARD, SOFT

# What a whole message is.
REPORT_BOUNCE = "bounce"  # a delivery status notification (or a provider's bounce event)
REPORT_COMPLAINT = "complaint"  # an abuse report (ARF) or a provider's spam report
REPORT_AUTO_REPLY = "auto_reply"  # out of office and the like: never a bounce
REPORT_UNSUBSCRIBE = "unsubscribe"  # a message to the mailto: List-Unsubscribe address
REPORT_DELAY = "delay"  # "still trying": a warning, not a failure
REPORT_UNKNOWN = "unknown"  # nothing we could understand: ignored, logged
REPORT_KINDS = (
    REPORT_BOUNCE,
    REPORT_COMPLAINT,
    REPORT_AUTO_REPLY,
    REPORT_UNSUBSCRIBE,
    REPORT_DELAY,
    REPORT_UNKNOWN,
)


@dataclass(frozen=True)
class Failure:
    """One recipient the report is about."""

    address: str  # the final recipient ("" when the report does not say, as Gmail's)
    kind: str  # models.HARD, SOFT or COMPLAINT
    status: str = ""  # the enhanced status code, "5.1.1"
    diagnostic: str = ""  # the remote server's words, or the provider's reason

    def __post_init__(self) -> None:
        if self.kind not in (HARD, SOFT, COMPLAINT):
            raise ValueError(f"unknown failure kind {self.kind!r}")


@dataclass(frozen=True)
class Report:
    """One message or webhook event that came back."""

    kind: str  # one of REPORT_KINDS
    source: str  # models.SOURCES
    # Identifies this report wherever it comes from again: the DSN's own Message-ID
    # (or a digest of its bytes), the provider's event id. Same report, same value.
    fingerprint: str
    failures: tuple[Failure, ...] = ()
    # The Message-ID of our message it is about (with angle brackets), if quoted.
    message_id: str = ""
    # The local part's token when it came to a VERP address (bounces+TOKEN@...).
    verp_token: str = ""
    # The addresses it was delivered to (Delivered-To, X-Original-To, the envelope
    # recipient of a pipe), where a VERP token may be found.
    recipients: tuple[str, ...] = ()
    subject: str = ""
    # The message as it arrived (b"" for webhooks): stored for the bounces page.
    raw: bytes = b""
    # Authenticated by a provider's signature: an address alone may identify the
    # contact. A message in a mailbox could be forged by anyone, so it must name its
    # delivery (token or Message-ID).
    trusted: bool = False
    # Why it was classified so, for the log ("RFC 3464 report", "Exchange NDR", ...).
    detail: str = field(default="", compare=False)
