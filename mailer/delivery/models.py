"""Sends and deliveries: the database's record of who gets what, and how it went.

A send is one bulletin, frozen as approved, going to one audience. When it falls due,
one delivery row per eligible recipient is made (unique on send and contact), and the
workers work through those rows. The rows are the truth: a crash loses nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mailer.database import Base, UTCDateTime, utcnow

# A send's life.
SEND_DRAFT = "draft"  # being prepared; nothing frozen yet
# A bulletin sent on its own, submitted and waiting for an approver (a consultation's
# sends wait with their consultation instead, as drafts).
SEND_AWAITING_APPROVAL = "awaiting_approval"
SEND_SCHEDULED = "scheduled"  # approved and frozen, waiting for its time
SEND_SENDING = "sending"  # due: delivery rows made, workers at it
SEND_PAUSED = "paused"  # held by a person or by the relay refusing us
SEND_DONE = "done"  # every delivery sent, failed or skipped
SEND_CANCELLED = "cancelled"
# Its time passed by more than [scheduler] misfire_grace while nothing could fire it
# (scheduler down, sending stopped): kept for a person to send now or cancel.
SEND_MISSED = "missed"
SEND_STATES = (
    SEND_DRAFT,
    SEND_AWAITING_APPROVAL,
    SEND_SCHEDULED,
    SEND_SENDING,
    SEND_PAUSED,
    SEND_DONE,
    SEND_CANCELLED,
    SEND_MISSED,
)
SEND_LABELS = {
    SEND_DRAFT: "Draft",
    SEND_AWAITING_APPROVAL: "Awaiting approval",
    SEND_SCHEDULED: "Scheduled",
    SEND_SENDING: "Sending",
    SEND_PAUSED: "Paused",
    SEND_DONE: "Done",
    SEND_CANCELLED: "Cancelled",
    SEND_MISSED: "Missed",
}

# A delivery's life.
QUEUED = "queued"
SENDING = "sending"  # claimed by a worker under a lease
SENT = "sent"
FAILED = "failed"
SKIPPED = "skipped"
# Handed over, then a bounce came back for it (a delivery status notification or a
# provider's bounce event): not delivered after all (mailer.bounces).
BOUNCED = "bounced"
DELIVERY_STATES = (QUEUED, SENDING, SENT, FAILED, SKIPPED, BOUNCED)

# Why a delivery was skipped.
SKIP_UNSUBSCRIBED = "unsubscribed"
SKIP_BOUNCED = "bounced"
SKIP_ERASED = "erased"
SKIP_DUPLICATE = "duplicate address"
SKIP_SUPPRESSED = "suppressed"
SKIP_CANCELLED = "send cancelled"

# BIGINT on PostgreSQL (a busy office sends millions over the years); SQLite needs
# INTEGER for its rowid alias.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Send(Base):
    __tablename__ = "sends"
    __table_args__ = (
        Index("ix_sends_state_due_at", "state", "due_at"),
        Index("ix_sends_bulletin_id", "bulletin_id"),
        # Unsubscribe links name their send: an id is never given to another one.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bulletin_id: Mapped[int | None] = mapped_column(
        ForeignKey("bulletins.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    # contacts.audience.Audience.to_json(): lists and organisation types, narrowed by
    # tags and areas, minus excluded lists.
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # messages.Frozen.to_json(): what was approved, which later edits cannot change.
    frozen: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    state: Mapped[str] = mapped_column(String(20), default=SEND_DRAFT)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The final counts, kept when [retention] deletes the delivery rows themselves.
    summary: Mapped[dict[str, int] | None] = mapped_column(JSON, nullable=True)
    # Why it is paused (a person, or the relay's reply that refused us).
    paused_reason: Mapped[str] = mapped_column(Text, default="")
    # The role of whoever paused it ("" for the relay): only someone of that rank or
    # above may resume it (mailer/accounts/roles.py).
    paused_by_role: Mapped[str] = mapped_column(String(20), default="")
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    approved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # On a consultation's timeline: which planned send this is ("launch",
    # "reminder:1209600:morning", "close_notice"), where the timeline asked for it, and
    # why the sending rules moved it from there to due_at.
    consultation_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), nullable=True, index=True
    )
    slot: Mapped[str] = mapped_column(String(60), default="")
    label: Mapped[str] = mapped_column(String(200), default="")
    planned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    missed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A bulletin sent on its own (no consultation): who asked for approval, and when;
    # with no due_at it goes as soon as it is approved (moved by the sending rules).
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    submitted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # The time the writer asked for; None: as soon as approved.
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The content hash of what was approved (what the approval page showed).
    approved_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Why it is a draft again (an edit after submission), for whoever submits next.
    returned_note: Mapped[str] = mapped_column(String(500), default="", server_default="")
    # The web version ("view in your browser"): /bulletins/<web_token>, no personal data.
    web_token: Mapped[str | None] = mapped_column(String(24), nullable=True, unique=True)
    # Listed in the public archive (/bulletins) since then; None: not published.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("send_id", "contact_id"),
        # The workers' question: which rows are due?
        Index("ix_deliveries_state_next_attempt_at", "state", "next_attempt_at", "id"),
        Index("ix_deliveries_contact_id", "contact_id"),
        Index("ix_deliveries_sent_at", "sent_at"),
        # A send's counts by state and skip reason (its page, its report) read this
        # index alone, not the rows.
        Index("ix_deliveries_send_id_state", "send_id", "state", "skip_reason"),
        # A bounce that quotes the message it is about is matched by its Message-ID.
        Index("ix_deliveries_message_id", "message_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    send_id: Mapped[int] = mapped_column(ForeignKey("sends.id", ondelete="CASCADE"))
    # NULL once the contact is erased (the row stays, so counts stay right).
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True
    )
    # The address at the time the row was made ("" once erased).
    address: Mapped[str] = mapped_column(String(320))
    state: Mapped[str] = mapped_column(String(20), default=QUEUED)
    skip_reason: Mapped[str] = mapped_column(String(40), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lease_owner: Mapped[str] = mapped_column(String(80), default="")
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_reply: Mapped[str] = mapped_column(Text, default="")
    # A permanent refusal of the recipient ("user unknown"): counts towards suppression.
    hard_bounce: Mapped[bool] = mapped_column(Boolean, default=False)
    # Made with the row, the same on every retry: a repeat is recognisable as one.
    message_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    send: Mapped[Send] = relationship()


class RelayState(Base):
    """One row (id 1) shared by every worker: the next free slot under
    ``[smtp] rate_per_second``. Workers reserve slots for a whole batch at once."""

    __tablename__ = "relay_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_slot_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SendingSwitch(Base):
    """One row (id 1): the stop switch. While ``stopped``, workers claim nothing and
    hand back what they hold, and the scheduler fires nothing."""

    __tablename__ = "sending_switch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stopped: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(String(300), default="")
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    changed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # The role of whoever stopped it: only someone of that rank or above may restart.
    stopped_by_role: Mapped[str] = mapped_column(String(20), default="")


# Mail a request asked for (a sign-up confirmation, an admin's test send): queued by the
# request, which commits and answers at once, and sent by the delivery workers.
MAIL_SIGNUP = "signup"
MAIL_TEST = "test"


class QueuedMessage(Base):
    """One finished message to one recipient, waiting for a worker (mailer.delivery.queue)."""

    __tablename__ = "queued_messages"
    __table_args__ = (
        Index("ix_queued_messages_state_next_attempt_at", "state", "next_attempt_at", "id"),
        Index("ix_queued_messages_bulletin_id", "bulletin_id"),
        Index("ix_queued_messages_recipient_key", "recipient_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    sender: Mapped[str] = mapped_column(String(320))
    recipient: Mapped[str] = mapped_column(String(320))  # "" once erased
    recipient_key: Mapped[str] = mapped_column(String(320))  # casefolded, for erasure
    # The message as it will go, CRLF; emptied once it is sent or given up on.
    data: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(20), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lease_owner: Mapped[str] = mapped_column(String(80), default="")
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_reply: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A test send: which bulletin, so its page can say how the test went.
    bulletin_id: Mapped[int | None] = mapped_column(
        ForeignKey("bulletins.id", ondelete="CASCADE"), nullable=True
    )


# --- the links a message carries ------------------------------------------------------
# Delivery writes them into each message; tracking (mailer.tracking) counts what comes
# back through them.

# What a tracked link leads to.
LINK_SURVEY = "survey"
LINK_DOCUMENT = "document"
LINK_PAGE = "page"
LINK_BODY = "body"  # a link the writer put in the words of the message
LINK_WEB_VERSION = "web_version"


class ShareCode(Base):
    """A stakeholder's personal share link for one consultation: ``/s/<code>``."""

    __tablename__ = "share_codes"
    __table_args__ = (UniqueConstraint("consultation_id", "contact_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"))
    # NULL once the contact is erased: the counts stay, the person does not.
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrackedLink(Base):
    """A link the product put in a message or on the public page: ``/r/<token>`` leads
    to ``target`` and nowhere else. ``send_id`` NULL: the public page's own link.
    ``consultation_id`` NULL: a link in a bulletin sent on its own."""

    __tablename__ = "tracked_links"
    __table_args__ = (Index("ix_tracked_links_consultation_id", "consultation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(24), unique=True)
    consultation_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), nullable=True
    )
    send_id: Mapped[int | None] = mapped_column(
        ForeignKey("sends.id", ondelete="CASCADE"), nullable=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(1000))
    label: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
