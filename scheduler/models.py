"""Consultations, their documents, blackout periods, and the scheduler's heartbeat.

A consultation owns a timeline of sends (``sends.consultation_id``): the launch, the
reminders and the close notice. The sends table is the plan; the scheduler process
only turns it into timers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mailer.bulletins.models import StoredFile
from mailer.database import Base, UTCDateTime, utcnow

# A consultation's stored state. "open" and "closed" are not stored: a scheduled
# consultation is open between its opening and closing times (see ``phase``).
DRAFT = "draft"
AWAITING_APPROVAL = "awaiting_approval"
SCHEDULED = "scheduled"
OPEN = "open"
CLOSED = "closed"
CANCELLED = "cancelled"
STATE_LABELS = {
    DRAFT: "Draft",
    AWAITING_APPROVAL: "Awaiting approval",
    SCHEDULED: "Scheduled",
    OPEN: "Open",
    CLOSED: "Closed",
    CANCELLED: "Cancelled",
}

# What the consultation is about; each type names the audiences the law expects
# (scheduler/statutory.py).
TYPE_PLAN_DRAFT = "plan_draft"
TYPE_PLAN_VARIATION = "plan_variation"
TYPE_ANNUAL_REPORT = "annual_report"
TYPE_PRECEPT = "precept"
TYPE_GENERAL = "general"
TYPE_LABELS = {
    TYPE_PLAN_DRAFT: "Police and crime plan (draft)",
    TYPE_PLAN_VARIATION: "Police and crime plan (variation)",
    TYPE_ANNUAL_REPORT: "Annual report",
    TYPE_PRECEPT: "Budget and precept",
    TYPE_GENERAL: "General consultation",
}


class Consultation(Base):
    __tablename__ = "consultations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[str] = mapped_column(String(30), default=TYPE_GENERAL)
    state: Mapped[str] = mapped_column(String(30), default=DRAFT)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    survey_url: Mapped[str] = mapped_column(String(1000))
    # The survey tool's completion address: /c/<completion_code> (None until made).
    completion_code: Mapped[str | None] = mapped_column(String(24), unique=True, nullable=True)
    # When the webhooks were told it opened and closed (consultation.opened, .closed):
    # each is told once, by the active scheduler, after the time has passed.
    opened_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # {"lists": [ids], "organisation_types": [ids]}, as a send's audience.
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # [{"before": seconds, "morning": bool}]: the reminders asked for.
    reminders: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Seconds after the close; None: 09:00 on the next sending day.
    close_notice_after: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # A contact who joins an audience list while the consultation is open gets the launch.
    late_joiners: Mapped[bool] = mapped_column(Boolean, default=True)
    # With [tracking] per_person: reminders leave out those who followed the survey link.
    skip_responders: Mapped[bool] = mapped_column(Boolean, default=False)
    # Where confirmed "register for updates" sign-ups go; part of the audience.
    signup_list_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_lists.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    submitted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    approved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The content hash of the version last approved (scheduler/approval.py).
    approved_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Why it is a draft again (an edit after submission), for whoever submits next.
    returned_note: Mapped[str] = mapped_column(String(500), default="")

    documents: Mapped[list[ConsultationDocument]] = relationship(
        back_populates="consultation",
        order_by="ConsultationDocument.position",
        cascade="all, delete-orphan",
    )

    def phase(self, now: datetime) -> str:
        """The state a person sees: a scheduled consultation is open or closed by time."""
        if self.state != SCHEDULED:
            return self.state
        if now >= self.closes_at:
            return CLOSED
        if now >= self.opens_at:
            return OPEN
        return SCHEDULED


class Contribution(Base):
    """Someone created, edited or submitted part of a consultation. Rows made since
    its last approval (``approval_at`` empty) name who may not approve it under the
    two-person rule; an approval stamps them, so the history stays."""

    __tablename__ = "consultation_contributions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # Kept as written: the audit names the person even if the account goes.
    user_email: Mapped[str] = mapped_column(String(320))
    # "created", "edited" or "submitted"
    action: Mapped[str] = mapped_column(String(20))
    # What was touched, as a person reads it ("the launch message: subject").
    part: Mapped[str] = mapped_column(String(300), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the approval that covered it was given; None: since the last approval.
    approval_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ConsultationDocument(Base):
    """A document the consultation asks people to read (the draft plan)."""

    __tablename__ = "consultation_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"))
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))
    filename: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(255), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    # An accessible web version of the document (an HTML page), where one is published.
    alternative_url: Mapped[str] = mapped_column(String(1000), default="")

    consultation: Mapped[Consultation] = relationship(back_populates="documents")
    file: Mapped[StoredFile] = relationship(lazy="joined")


class Blackout(Base):
    """A period in which nothing is sent (a pre-election period, say)."""

    __tablename__ = "blackouts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


class SchedulerStatus(Base):
    """One row (id 1) the active scheduler writes on every tick, for /healthz and the
    admin: who holds the lock, when it last ticked, and the next send it will fire."""

    __tablename__ = "scheduler_status"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(120), default="")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    next_send_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
