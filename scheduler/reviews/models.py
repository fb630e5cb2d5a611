"""One row per step of a review: submitted, approved, sent back (with a comment)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mailer.database import Base, UTCDateTime, utcnow

# What happened, as stored in ``ReviewEvent.action``.
SUBMITTED = "submitted"
APPROVED = "approved"
SENT_BACK = "sent_back"
ACTION_LABELS = {
    SUBMITTED: "Submitted for approval",
    APPROVED: "Approved",
    SENT_BACK: "Sent back",
}


class ReviewEvent(Base):
    """A step in the review of a consultation (``consultation_id``) or of a bulletin
    send (``send_id``): exactly one of the two is set. ``snapshot`` keeps, on approval,
    what was approved as a person reads it (words, audience, timeline), so the next
    approver sees what changed since."""

    __tablename__ = "review_events"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    consultation_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), nullable=True, index=True
    )
    send_id: Mapped[int | None] = mapped_column(
        ForeignKey("sends.id", ondelete="CASCADE"), nullable=True, index=True
    )
    # The bulletin a send belongs to: its earlier approvals are the diff's base.
    bulletin_id: Mapped[int | None] = mapped_column(
        ForeignKey("bulletins.id", ondelete="CASCADE"), nullable=True, index=True
    )
    action: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # Kept as written: the history names the person even if the account goes.
    user_email: Mapped[str] = mapped_column(String(320))
    comment: Mapped[str] = mapped_column(Text, default="")
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
