"""The record of every bounce and complaint, the messages they came in, and the
webhook requests already seen (so a replayed one is refused)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mailer.database import Base, UTCDateTime, utcnow
from mailer.delivery.models import BigId

# What a report says happened to one recipient.
HARD = "hard"  # a permanent failure (5.x.x): the address does not work
SOFT = "soft"  # a temporary one (4.x.x): mailbox full, greylisted, out of space
COMPLAINT = "complaint"  # the recipient marked it as spam (a feedback loop report)
KINDS = (HARD, SOFT, COMPLAINT)
KIND_LABELS = {HARD: "Hard bounce", SOFT: "Soft bounce", COMPLAINT: "Complaint"}

# Where it came in.
SOURCE_SMTP = "smtp"  # refused during the SMTP conversation (at RCPT)
SOURCE_MAILBOX = "mailbox"  # read from the bounce mailbox over IMAP
SOURCE_PIPE = "pipe"  # piped in by the local mail server: mailer bounces process -
SOURCE_FILE = "file"  # mailer bounces process FILE.eml
SOURCE_SES = "ses"
SOURCE_SENDGRID = "sendgrid"
SOURCE_MAILGUN = "mailgun"
SOURCES = (
    SOURCE_SMTP,
    SOURCE_MAILBOX,
    SOURCE_PIPE,
    SOURCE_FILE,
    SOURCE_SES,
    SOURCE_SENDGRID,
    SOURCE_MAILGUN,
)
SOURCE_LABELS = {
    SOURCE_SMTP: "Refused by the relay",
    SOURCE_MAILBOX: "Bounce mailbox",
    SOURCE_PIPE: "Passed on by our mail server",
    SOURCE_FILE: "Processed from a saved message",
    SOURCE_SES: "Amazon SES",
    SOURCE_SENDGRID: "SendGrid",
    SOURCE_MAILGUN: "Mailgun",
}

# The most of a bounce message that is stored (a DSN quoting a large message with its
# attachments is cut here; the report's own parts come first).
MAX_STORED_MESSAGE = 256 * 1024


class BounceMessage(Base):
    """A message that came back (a DSN, a complaint report), as it arrived, for the
    bounces page's "the message it came from". Kept for [bounces] keep_messages."""

    __tablename__ = "bounce_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    subject: Mapped[str] = mapped_column(String(300), default="")
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Bounce(Base):
    """One recipient's bounce or complaint, recorded once however often it arrives."""

    __tablename__ = "bounces"
    __table_args__ = (
        Index("ix_bounces_contact_id_kind_received_at", "contact_id", "kind", "received_at"),
        Index("ix_bounces_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # What makes a report the same report: the same message processed twice, or the
    # same webhook event, gives the same fingerprint (processing.py).
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("deliveries.id", ondelete="SET NULL"), nullable=True, index=True
    )
    send_id: Mapped[int | None] = mapped_column(
        ForeignKey("sends.id", ondelete="SET NULL"), nullable=True, index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True
    )
    # The address that failed ("" once erased) and its casefolded key (for erasure).
    address: Mapped[str] = mapped_column(String(320), default="")
    email_key: Mapped[str] = mapped_column(String(320), default="", index=True)
    status: Mapped[str] = mapped_column(String(20), default="")  # "5.1.1"
    diagnostic: Mapped[str] = mapped_column(Text, default="")  # the server's own words
    # The Message-ID of the message that bounced, as the report quoted it.
    message_id: Mapped[str] = mapped_column(String(200), default="")
    # What recording it did, in words ("Suppressed: 1 hard bounce", ...).
    outcome: Mapped[str] = mapped_column(String(300), default="")
    message_ref: Mapped[int | None] = mapped_column(
        ForeignKey("bounce_messages.id", ondelete="SET NULL"), nullable=True, index=True
    )


class WebhookReceipt(Base):
    """A signed webhook request already processed: the same one again is a replay."""

    __tablename__ = "webhook_receipts"
    __table_args__ = (UniqueConstraint("provider", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
