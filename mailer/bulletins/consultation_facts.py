"""What a frozen message knows of its consultation.

An approval freezes each send's message (mailer.bulletins.messages.Frozen); a
consultation's messages also keep, under ``extra["consultation"]``, the facts they
show and link to. FrozenConsultation is that record: made from a consultation at
approval, read back by the workers, moved by Open now. The stored JSON keeps the shape
sends frozen before this module existed have, so they are read as they were, and the
content hash of an approval does not change for the same content.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mailer.bulletins.context import ConsultationView
from mailer.public_urls import PublicUrls

if TYPE_CHECKING:
    from scheduler.models import Consultation

KEY = "consultation"  # where it is kept in Frozen.extra


@dataclass(frozen=True)
class FrozenConsultation:
    id: int | None
    slug: str
    title: str
    summary: str
    opens_at: datetime
    closes_at: datetime
    page_url: str
    survey_url: str

    @classmethod
    def of(cls, consultation: Consultation, *, base_url: str) -> FrozenConsultation:
        return cls(
            id=consultation.id,
            slug=consultation.slug,
            title=consultation.title,
            summary=consultation.summary,
            opens_at=consultation.opens_at,
            closes_at=consultation.closes_at,
            page_url=PublicUrls(base_url).consultation(consultation.slug),
            survey_url=consultation.survey_url,
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FrozenConsultation:
        return cls(
            id=data.get("id"),
            slug=data.get("slug", ""),
            title=data["title"],
            summary=data.get("summary", ""),
            opens_at=datetime.fromisoformat(data["opens_at"]),
            closes_at=datetime.fromisoformat(data["closes_at"]),
            page_url=data["page_url"],
            survey_url=data["survey_url"],
        )

    @classmethod
    def in_extra(cls, extra: dict[str, Any]) -> FrozenConsultation | None:
        """The record a frozen message's ``extra`` keeps, if it is a consultation's."""
        data = extra.get(KEY)
        return cls.from_json(data) if data else None

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "summary": self.summary,
            "opens_at": self.opens_at.isoformat(),
            "closes_at": self.closes_at.isoformat(),
            "page_url": self.page_url,
            "survey_url": self.survey_url,
            "slug": self.slug,
            "id": self.id,
        }

    def extra(self) -> dict[str, Any]:
        """What ``messages.freeze`` keeps with the message."""
        return {KEY: self.to_json()}

    def opened(self, at: datetime) -> FrozenConsultation:
        """The same consultation opening at ``at`` (Open now)."""
        return dataclasses.replace(self, opens_at=at)

    def view(self) -> ConsultationView:
        """The consultation as the message shows it."""
        return ConsultationView(
            title=self.title,
            summary=self.summary,
            opens_at=self.opens_at,
            closes_at=self.closes_at,
            page_url=self.page_url,
            survey_url=self.survey_url,
        )
