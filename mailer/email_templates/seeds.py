"""Seeding the database with the shipped template family, once.

Each member is assembled from its seed sources under ``templates/email_seeds/stakeholder_special/``:
the shared layout with the member's own middle section, and the small shared parts
(``{# part _survey.html #}``) written in place. The result is one self-contained source
per part, stored as version 1 of the member when the database is initialised: a stored
version never depends on files that a later release could change.

A later release offers its sources to an existing installation through
:func:`upgrade_shipped`: a member whose newest version is exactly one an earlier release
shipped (:mod:`mailer.email_templates.shipped`) gains the current sources as a new
version; a member an office has edited is never touched.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.email_templates.family import MEMBERS
from mailer.email_templates.models import EmailTemplate, TemplateVersion
from mailer.email_templates.shipped import SHIPPED, digest
from mailer.organisation import service as organisation
from mailer.paths import email_seeds_dir
from mailer.rendering.prepare import TemplateParts

log = logging.getLogger(__name__)

SHIPPED_NOTE = "Shipped with Stakeholder Mailer"
UPDATED_NOTE = "Updated with Stakeholder Mailer"

_PART = re.compile(r"\{# part (_[a-z_]+\.(?:html|txt)) #\}\n?")

SUBJECT = "{{ bulletin.subject }}"
PREHEADER = "{{ bulletin.preheader }}"
HEADLINE = "{{ bulletin.subject }}"


def _folder() -> Path:
    return email_seeds_dir() / "stakeholder_special"


def _assemble(layout: str, middle: str, folder: Path) -> str:
    def part(match: re.Match[str]) -> str:
        return (folder / match.group(1)).read_text(encoding="utf-8")

    middle = _PART.sub(part, middle)
    return layout.replace("{{ headline }}", HEADLINE).replace("{{ kind_content }}", middle)


def seed_parts(kind: str) -> TemplateParts:
    """The seed sources of one family member, assembled: what its version 1 holds."""
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


def seed_database_once(session: Session) -> int:
    """Create the organisation settings row and any missing family member, its version 1
    read from the seed sources. A member already in the database is never read again, so
    it is safe to run at every ``mailer init``; returns how many templates it created."""
    organisation.ensure_settings(session)
    existing = set(session.scalars(select(EmailTemplate.name)))
    created = 0
    for member in MEMBERS:
        if member.name in existing:
            continue
        parts = seed_parts(member.kind)
        template = EmailTemplate(name=member.name, kind=member.kind, description=member.description)
        template.versions.append(
            TemplateVersion(
                number=1,
                subject=parts.subject,
                preheader=parts.preheader,
                html=parts.html,
                text=parts.text,
                note=SHIPPED_NOTE,
            )
        )
        session.add(template)
        created += 1
    session.flush()
    return created


@dataclass(frozen=True)
class Upgrade:
    updated: list[str]  # names of the templates given the current sources
    held: list[str]  # names of those left for now: a submission waiting would change


def upgrade_shipped(
    session: Session, *, held: Callable[[EmailTemplate], bool] | None = None
) -> Upgrade:
    """Give each shipped family member still as an earlier release shipped it the current
    seed sources, as a new version.

    ``held`` says whether a template must wait (a submission awaiting approval uses it,
    and a new version would change what was submitted): it is left for a later run.

    Only a member whose newest version is byte for byte one that a release shipped is
    updated: once an office has saved its own version (or restored an edited one), the
    member is theirs and stays as it is. Safe to run at every ``mailer init``: a member
    already at the current sources is left alone. Sends already approved keep the
    version they froze."""
    updated: list[str] = []
    waiting: list[str] = []
    for member in MEMBERS:
        template = session.scalar(select(EmailTemplate).where(EmailTemplate.name == member.name))
        if template is None or template.kind != member.kind or not template.versions:
            continue
        newest = template.versions[-1]
        stored = TemplateParts(
            subject=newest.subject, preheader=newest.preheader, html=newest.html, text=newest.text
        )
        current = seed_parts(member.kind)
        if stored == current or digest(stored) not in SHIPPED.get(member.kind, ()):
            continue
        if held is not None and held(template):
            waiting.append(member.name)
            log.info("template %r keeps its version for now: a submission uses it", member.name)
            continue
        template.versions.append(
            TemplateVersion(
                number=newest.number + 1,
                subject=current.subject,
                preheader=current.preheader,
                html=current.html,
                text=current.text,
                note=UPDATED_NOTE,
            )
        )
        updated.append(member.name)
        log.info(
            "template %r updated to the shipped sources as version %d",
            member.name,
            newest.number + 1,
        )
    session.flush()
    return Upgrade(updated=updated, held=waiting)
