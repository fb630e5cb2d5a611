"""Webhook endpoints, the queue of messages for them, and the log of each attempt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mailer.database import Base, UTCDateTime, utcnow

# A queued message's states.
PENDING = "pending"  # waiting for its next attempt (next_attempt_at)
DELIVERED = "delivered"  # the endpoint answered 2xx
FAILED = "failed"  # given up: the endpoint was disabled, or deleted its interest


class WebhookEndpoint(Base):
    """A URL of another system's, and the events it wants."""

    __tablename__ = "webhook_endpoints"
    # The admin's forms name an endpoint by id: a deleted one's id never goes to the next.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(2000))
    # The signing secret, "whsec_" + base64, sealed under the app's secret key.
    secret: Mapped[str] = mapped_column(String(500))
    # Space-separated event types ("contact.unsubscribed send.finished").
    events: Mapped[str] = mapped_column(String(1000), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # The first failure since the last success: failing for the whole window disables.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    disabled_reason: Mapped[str] = mapped_column(String(500), default="")


class WebhookMessage(Base):
    """One event for one endpoint: the body is fixed when the event happens, so every
    attempt sends the same bytes under the same message id."""

    __tablename__ = "webhook_messages"
    __table_args__ = (
        Index("ix_webhook_messages_state_next_attempt_at", "state", "next_attempt_at"),
        # A dispatcher writes what happened by id after posting: a message deleted
        # meanwhile (its endpoint was) must not hand its id to a new one.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    # The webhook-id header: "msg_" + random; the receiver's key for deduplication.
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A dispatcher's claim, so two processes never send the same message at once.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WebhookAttempt(Base):
    """One try at delivering a message, and what the endpoint answered."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_messages.id", ondelete="CASCADE"), index=True
    )
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The start of the answer (at most 2 KB), or why there was none.
    response: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(String(500), default="")
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
