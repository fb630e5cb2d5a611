"""The Stakeholder Special template family shipped with the product.

Each member is assembled from files under ``templates/email/stakeholder_special/``: the
shared layout with the member's own middle section, and the small shared parts
(``{# part _survey.html #}``) written in place. The result is one self-contained source
per part, stored as version 1 of the member when the database is initialised: a stored
version never depends on files that a later release could change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.bulletins.models import (
    KIND_BULLETIN,
    KIND_CLOSE_NOTICE,
    KIND_LAUNCH,
    KIND_REMINDER,
    EmailTemplate,
    OrganisationSettings,
    TemplateVersion,
)
from mailer.paths import templates_dir
from mailer.rendering.prepare import TemplateParts

_PART = re.compile(r"\{# part (_[a-z_]+\.(?:html|txt)) #\}\n?")


@dataclass(frozen=True)
class Member:
    kind: str
    name: str
    description: str
    default_subject: str  # what a new bulletin of this kind starts with


MEMBERS = (
    Member(
        KIND_LAUNCH,
        "Stakeholder Special: consultation launch",
        "Opens a consultation: survey button, closing date, documents, paper copies "
        "and the request to pass it on.",
        "Have your say: {title}",
    ),
    Member(
        KIND_REMINDER,
        "Stakeholder Special: reminder",
        "Before the close: how long is left, the survey button and the closing date.",
        "Reminder: {title} closes soon",
    ),
    Member(
        KIND_CLOSE_NOTICE,
        "Stakeholder Special: close notice",
        "After the close: thanks, and what happens next.",
        "Thank you: {title} has closed",
    ),
    Member(
        KIND_BULLETIN,
        "Stakeholder Special: general bulletin",
        "News for stakeholders with no consultation attached.",
        "Stakeholder Special",
    ),
)
MEMBER_BY_KIND = {member.kind: member for member in MEMBERS}

SUBJECT = "{{ bulletin.subject }}"
PREHEADER = "{{ bulletin.preheader }}"
HEADLINE = "{{ bulletin.subject }}"

DEFAULT_ORGANISATION = {
    "name": "Office of the Police and Crime Commissioner",
    "colour": "#1d3a6e",
    "emergency": "999",
    "non_emergency": "101",
}


def _folder() -> Path:
    return templates_dir() / "email" / "stakeholder_special"


def _assemble(layout: str, middle: str, folder: Path) -> str:
    def part(match: re.Match[str]) -> str:
        return (folder / match.group(1)).read_text(encoding="utf-8")

    middle = _PART.sub(part, middle)
    return layout.replace("{{ headline }}", HEADLINE).replace("{{ kind_content }}", middle)


def parts_for(kind: str) -> TemplateParts:
    """The shipped sources of one member, assembled."""
    folder = _folder()
    html = _assemble(
        (folder / "_layout.html").read_text(encoding="utf-8"),
        (folder / f"{kind}.html").read_text(encoding="utf-8"),
        folder,
    )
    text = _assemble(
        (folder / "_layout.txt").read_text(encoding="utf-8"),
        (folder / f"{kind}.txt").read_text(encoding="utf-8"),
        folder,
    )
    return TemplateParts(subject=SUBJECT, preheader=PREHEADER, html=html, text=text)


def ensure_seeded(session: Session) -> int:
    """Create the organisation settings row and any missing family member (version 1).
    Idempotent; returns how many templates it created."""
    if session.get(OrganisationSettings, 1) is None:
        session.add(OrganisationSettings(id=1, social=[], **DEFAULT_ORGANISATION))
    existing = set(session.scalars(select(EmailTemplate.name)))
    created = 0
    for member in MEMBERS:
        if member.name in existing:
            continue
        parts = parts_for(member.kind)
        template = EmailTemplate(name=member.name, kind=member.kind, description=member.description)
        template.versions.append(
            TemplateVersion(
                number=1,
                subject=parts.subject,
                preheader=parts.preheader,
                html=parts.html,
                text=parts.text,
                note="Shipped with Stakeholder Mailer",
            )
        )
        session.add(template)
        created += 1
    session.flush()
    return created
