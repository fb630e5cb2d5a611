"""Email templates (the designs a bulletin is poured into) and their saved versions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mailer.database import Base, UTCDateTime, utcnow

# What a message is for; also the template a bulletin uses by default.
KIND_LAUNCH = "launch"
KIND_REMINDER = "reminder"
KIND_CLOSE_NOTICE = "close_notice"
KIND_BULLETIN = "bulletin"
KINDS = (KIND_LAUNCH, KIND_REMINDER, KIND_CLOSE_NOTICE, KIND_BULLETIN)
KIND_LABELS = {
    KIND_LAUNCH: "Consultation launch",
    KIND_REMINDER: "Reminder",
    KIND_CLOSE_NOTICE: "Close notice",
    KIND_BULLETIN: "General bulletin",
}


class EmailTemplate(Base):
    __tablename__ = "email_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list[TemplateVersion]] = relationship(
        back_populates="template", order_by="TemplateVersion.number"
    )


class TemplateVersion(Base):
    """One saved edit of a template. Never changed after it is written."""

    __tablename__ = "template_versions"
    __table_args__ = (UniqueConstraint("template_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("email_templates.id"))
    number: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(Text)
    preheader: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    # Why this version cannot be used (part and line), or None when it renders.
    problem: Mapped[str | None] = mapped_column(Text, nullable=True)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )

    template: Mapped[EmailTemplate] = relationship(back_populates="versions")
