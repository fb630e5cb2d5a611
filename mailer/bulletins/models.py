"""Bulletins (what an editor writes), their attachments and the stored files."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mailer.database import Base, UTCDateTime, utcnow
from mailer.email_templates.models import KIND_BULLETIN, EmailTemplate


class StoredFile(Base):
    """An uploaded file, stored once under its SHA-256 however often it is attached."""

    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Bulletin(Base):
    """What an editor writes: subject, preheader and a Markdown body, on a template."""

    __tablename__ = "bulletins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default=KIND_BULLETIN)
    template_id: Mapped[int] = mapped_column(ForeignKey("email_templates.id"))
    subject: Mapped[str] = mapped_column(String(300))
    preheader: Mapped[str] = mapped_column(String(300), default="")
    body_markdown: Mapped[str] = mapped_column(Text, default="")
    # Link to the documents on the consultation's page instead of attaching them.
    link_documents: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # A bulletin about a consultation: its survey, page and document links work in it.
    consultation_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultations.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # Made by copying another bulletin (a sent one, say).
    copied_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("bulletins.id", ondelete="SET NULL"), nullable=True
    )
    # The template's own blocks switched off or reworded for this bulletin
    # (mailer/bulletins/blocks.py): {"greeting": {"on": false}, "sign_off": {"text": ...}}.
    blocks: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Out of the everyday list; kept with its sends and reports.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    template: Mapped[EmailTemplate] = relationship(lazy="joined")
    attachments: Mapped[list[BulletinAttachment]] = relationship(
        back_populates="bulletin",
        order_by="BulletinAttachment.position",
        cascade="all, delete-orphan",
    )


class BulletinContribution(Base):
    """Someone created, edited or submitted (for sending) a bulletin. Rows since the
    last approval of one of its sends (``approval_at`` empty) name who may not approve
    the next one under the two-person rule; an approval stamps them."""

    __tablename__ = "bulletin_contributions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(
        ForeignKey("bulletins.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # Kept as written: the history names the person even if the account goes.
    user_email: Mapped[str] = mapped_column(String(320))
    # "created", "edited" or "submitted"
    action: Mapped[str] = mapped_column(String(20))
    # What was touched, as a person reads it ("subject, words").
    part: Mapped[str] = mapped_column(String(300), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approval_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class BulletinAttachment(Base):
    __tablename__ = "bulletin_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(ForeignKey("bulletins.id", ondelete="CASCADE"))
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))
    filename: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(255), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    bulletin: Mapped[Bulletin] = relationship(back_populates="attachments")
    file: Mapped[StoredFile] = relationship(lazy="joined")
