"""Stakeholders: contacts, organisation types, lists and the suppression list."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mailer.database import Base, UTCDateTime, utcnow

# Contact status: only ACTIVE contacts receive mail.
ACTIVE = "active"
UNSUBSCRIBED = "unsubscribed"
BOUNCED = "bounced"
ERASED = "erased"
STATUSES = (ACTIVE, UNSUBSCRIBED, BOUNCED, ERASED)

# Where a contact came from.
SOURCE_IMPORT = "import"
SOURCE_MANUAL = "manual"
SOURCE_SIGN_UP = "sign-up"
SOURCE_CASCADE = "cascade"
SOURCE_API = "api"  # added by another system through the API (the audit log names its key)
SOURCES = (SOURCE_IMPORT, SOURCE_MANUAL, SOURCE_SIGN_UP, SOURCE_CASCADE, SOURCE_API)
# How the admin shows each source.
SOURCE_LABELS = {
    SOURCE_IMPORT: "Import",
    SOURCE_MANUAL: "Added in the admin",
    SOURCE_SIGN_UP: "Sign-up",
    SOURCE_CASCADE: "Cascade",
    SOURCE_API: "API",
}

# UK GDPR Article 6 bases a public body mails stakeholders under.
LAWFUL_BASES = ("public task", "legitimate interests", "consent")
DEFAULT_LAWFUL_BASIS = "public task"

# Why an address is suppressed.
SUPPRESSED_UNSUBSCRIBED = "unsubscribed"
SUPPRESSED_BOUNCED = "bounced"
SUPPRESSED_ERASED = "erased"
SUPPRESSED_MANUAL = "manual"
SUPPRESSED_COMPLAINED = "complained"  # marked a message as spam (a feedback loop report)
SUPPRESSION_REASONS = (
    SUPPRESSED_UNSUBSCRIBED,
    SUPPRESSED_BOUNCED,
    SUPPRESSED_COMPLAINED,
    SUPPRESSED_ERASED,
    SUPPRESSED_MANUAL,
)

# The organisation types a police and crime plan consultation must reach, seeded by the
# migration that creates the table (and managed in the admin afterwards).
SEEDED_ORGANISATION_TYPES = (
    "Chief Constable's office",
    "Police and Crime Panel",
    "Community Safety Partnership",
    "Local authority",
    "Victims' service",
    "Violence Reduction partnership",
    "Criminal justice partner",
    "Health",
    "Fire and rescue",
    "Voluntary and community group",
    "Business",
    "Elected member",
    "Member of the public",
)


def new_link_key() -> str:
    """A contact's link key: 72 random bits, 12 URL-safe characters."""
    return secrets.token_urlsafe(9)


class OrganisationType(Base):
    __tablename__ = "organisation_types"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_status", "status"),
        Index("ix_contacts_organisation_type_id", "organisation_type_id"),
        Index("ix_contacts_name", "name"),
        Index("ix_contacts_organisation", "organisation"),
        # "In these areas" compares trimmed, case-folded areas (contacts.audience).
        Index("ix_contacts_area_key", text("lower(trim(area))")),
        # A send's report counts who unsubscribed through it; few ever do.
        Index(
            "ix_contacts_unsubscribed_from_send",
            "unsubscribed_from_send",
            postgresql_where=text("unsubscribed_from_send IS NOT NULL"),
            sqlite_where=text("unsubscribed_from_send IS NOT NULL"),
        ),
        # Ids are never reused, even after the newest contact is erased: an old link
        # must not name whoever would have come next.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Carried in every link made for this contact and checked when it is followed
    # (contacts.tokens, contacts.link_owner): a link acts on this person and nobody else.
    link_key: Mapped[str] = mapped_column(String(24), default=new_link_key)
    # A link made before links carried the key still acts for this contact: set when
    # the keys came in, for contacts whose id no erased contact had held before them.
    legacy_links: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # As email-validator normalises it: the local part keeps its case.
    email: Mapped[str] = mapped_column(String(320))
    # Case-folded, so Alice@X.org and alice@x.org are one contact.
    email_key: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    organisation: Mapped[str] = mapped_column(String(200), default="")
    organisation_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation_types.id", ondelete="SET NULL"), nullable=True
    )
    role: Mapped[str] = mapped_column(String(200), default="")
    area: Mapped[str] = mapped_column(String(200), default="")
    # ";"-separated, as in the CSV: tags are few and filtered by whole-word match.
    tags: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=ACTIVE)
    source: Mapped[str] = mapped_column(String(20), default=SOURCE_MANUAL)
    lawful_basis: Mapped[str] = mapped_column(String(40), default=DEFAULT_LAWFUL_BASIS)
    lawful_basis_recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Which send the unsubscribe came from (a send id once sends exist; 0: not from one).
    unsubscribed_from_send: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Who passed the consultation on to this contact (a confirmed sign-up through a
    # share link): the cascade's next step.
    referred_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organisation_type: Mapped[OrganisationType | None] = relationship(lazy="joined")
    memberships: Mapped[list[ListMembership]] = relationship(
        back_populates="contact", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS.get(self.source, self.source)

    @property
    def tag_list(self) -> list[str]:
        return [t for t in self.tags.split(";") if t]


class ContactList(Base):
    __tablename__ = "contact_lists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # Whether stakeholders may join or leave it on their preferences page.
    choosable: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ListMembership(Base):
    __tablename__ = "list_memberships"
    __table_args__ = (Index("ix_list_memberships_contact_id", "contact_id"),)

    list_id: Mapped[int] = mapped_column(
        ForeignKey("contact_lists.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # How: import, manual, preferences, sign-up.
    source: Mapped[str] = mapped_column(String(20), default=SOURCE_MANUAL)

    contact: Mapped[Contact] = relationship(back_populates="memberships")
    list: Mapped[ContactList] = relationship(lazy="joined")

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS.get(self.source, self.source)


class Segment(Base):
    """A saved audience with a name ("Partners in the north, not the Panel"), reused
    when sending a bulletin: contacts.audience.Audience as JSON."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Suppression(Base):
    """An address that must never be mailed (again), kept as a keyed hash.

    The hash (HMAC-SHA256 under a key of its own, see contacts.suppression) lets a later
    import recognise an erased address without the product keeping the address.
    """

    __tablename__ = "suppressions"
    # The API lifts one by its id: an id is never given to another (SQLite reuses the
    # highest deleted one otherwise).
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(String(500), default="")
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True
    )
    send_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contact: Mapped[Contact | None] = relationship(lazy="joined")


class SystemKey(Base):
    """Keys the product makes for itself and shares between its processes."""

    __tablename__ = "system_keys"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
