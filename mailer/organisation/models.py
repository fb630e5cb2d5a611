"""The office's settings: the one row every email template prints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mailer.database import Base, UTCDateTime, utcnow


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
    # The address messages come from, one of the operator's [mail] allowed_from
    # ("" for [mail] from_address). The display name is always ``name``.
    from_address: Mapped[str] = mapped_column(String(320), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def snapshot(self) -> dict[str, Any]:
        """The settings as the templates see them, frozen into each approved send.

        The chosen from address is frozen too, so an approved send never changes
        sender; it is left out while empty (the default address) so that sends frozen
        before it existed keep their content hash (scheduler/approval.py)."""
        values: dict[str, Any] = {
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
        if self.from_address:
            values["from_address"] = self.from_address
        return values
