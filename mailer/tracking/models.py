"""Cascade tracking: what comes back from a message. The counts fed by its share
codes and tracked links (which delivery writes into each message, so they are
delivery's records: mailer.delivery.models), sign-ups and cascade confirmations.

Counts only, for privacy: no IP address, no cookie, no open pixel. A click or a
visit adds one to a counter per day; who clicked is kept only with
``[tracking] per_person`` on, and then only as "this contact followed this link".
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mailer.database import Base, UTCDateTime, utcnow

# How a stakeholder says they passed it on.
CHANNELS = {
    "email": "Email",
    "newsletter": "Newsletter or bulletin",
    "social": "Social media",
    "meeting": "A meeting or event",
    "other": "Another way",
}


class ClickCount(Base):
    """Clicks on one link on one day; ``via`` is the share code id the visitor came
    through (0: straight from a message or the page)."""

    __tablename__ = "click_counts"
    __table_args__ = (UniqueConstraint("link_id", "via", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("tracked_links.id", ondelete="CASCADE"))
    via: Mapped[int] = mapped_column(Integer, default=0)
    day: Mapped[date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(Integer, default=0)


class PersonClick(Base):
    """With ``[tracking] per_person`` on: this contact followed this link."""

    __tablename__ = "person_clicks"
    __table_args__ = (UniqueConstraint("link_id", "contact_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("tracked_links.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    first_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ShareVisit(Base):
    """Visits through one share link on one day."""

    __tablename__ = "share_visits"
    __table_args__ = (UniqueConstraint("share_code_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    share_code_id: Mapped[int] = mapped_column(ForeignKey("share_codes.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(Integer, default=0)


class SignUp(Base):
    """A "register for updates" request: a contact only once the address is confirmed."""

    __tablename__ = "sign_ups"
    __table_args__ = (Index("ix_sign_ups_email_key_created_at", "email_key", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    email_key: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    share_code_id: Mapped[int | None] = mapped_column(
        ForeignKey("share_codes.id", ondelete="SET NULL"), nullable=True
    )
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True
    )


class CascadeConfirmation(Base):
    """ "I shared this": how, and roughly with how many people."""

    __tablename__ = "cascade_confirmations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"))
    share_code_id: Mapped[int | None] = mapped_column(
        ForeignKey("share_codes.id", ondelete="SET NULL"), nullable=True
    )
    channel: Mapped[str] = mapped_column(String(20))
    reach: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SurveyCompletion(Base):
    """A response completed in the consultation's survey tool, reported by the tool's
    completion redirect (``/c/<completion code>``), through the share link it came
    from when the tool passed the share code back."""

    __tablename__ = "survey_completions"
    __table_args__ = (Index("ix_survey_completions_consultation_id", "consultation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"))
    share_code_id: Mapped[int | None] = mapped_column(
        ForeignKey("share_codes.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PublicRequest(Base):
    """One use of a public form, kept a day so that limits hold across processes.

    Only keyed hashes (the suppression key): of the normalised address, and of the
    client's network (/24 IPv4, /64 IPv6), never the address or the IP itself."""

    __tablename__ = "public_requests"
    __table_args__ = (
        Index("ix_public_requests_form_at", "form", "at"),
        Index("ix_public_requests_address_key_at", "address_key", "at"),
        Index("ix_public_requests_network_key_at", "network_key", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form: Mapped[str] = mapped_column(String(20))
    address_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    network_key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
