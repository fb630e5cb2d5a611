"""Organisation settings, email templates and their versions, bulletins, stored files."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
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


class OrganisationSettings(Base):
    """The one row of settings every template uses (id 1)."""

    __tablename__ = "organisation_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    logo_url: Mapped[str] = mapped_column(String(500), default="")
    colour: Mapped[str] = mapped_column(String(7), default="#1d3a6e")
    website: Mapped[str] = mapped_column(String(500), default="")
    phone: Mapped[str] = mapped_column(String(60), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    non_emergency: Mapped[str] = mapped_column(String(60), default="101")
    emergency: Mapped[str] = mapped_column(String(60), default="999")
    # [{"name": "Facebook", "url": "https://..."}]
    social: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    postal_address: Mapped[str] = mapped_column(String(500), default="")
    signatory: Mapped[str] = mapped_column(String(200), default="")
    signatory_title: Mapped[str] = mapped_column(String(200), default="")
    register_url: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def snapshot(self) -> dict[str, Any]:
        """The settings as the templates see them, frozen into each approved send."""
        return {
            "name": self.name,
            "logo_url": self.logo_url,
            "colour": self.colour,
            "website": self.website,
            "phone": self.phone,
            "email": self.email,
            "non_emergency": self.non_emergency,
            "emergency": self.emergency,
            "social": [dict(item) for item in self.social or []],
            "postal_address": self.postal_address,
            "signatory": self.signatory,
            "signatory_title": self.signatory_title,
            "register_url": self.register_url,
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

    template: Mapped[EmailTemplate] = relationship(lazy="joined")
    attachments: Mapped[list[BulletinAttachment]] = relationship(
        back_populates="bulletin",
        order_by="BulletinAttachment.position",
        cascade="all, delete-orphan",
    )


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
