"""Editing templates: every save is a new, checked version; old ones never change.

A version is checked by rendering it the way a real send would (sandbox, CSS
inlining, MIME) with example content for its kind and one example recipient. A
version with a problem is still kept, so no edit is lost, but the template cannot be
used until a later version fixes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer import audit
from mailer.accounts.models import User
from mailer.audit import actions
from mailer.bulletins import context
from mailer.bulletins.messages import (
    Document,
    Frozen,
    Settings,
    consultation_or_example,
    prepare_frozen,
    preview_recipient,
)
from mailer.email_templates import family
from mailer.email_templates.models import EmailTemplate, TemplateVersion
from mailer.organisation import service as organisation
from mailer.rendering.mime import one_line
from mailer.rendering.placeholders import Slot
from mailer.rendering.prepare import TemplateParts, message_id
from mailer.rendering.sandbox import PART_LABELS, TemplateProblem

MAX_PART_CHARS = 200_000
SAMPLE_DOCUMENT = Document(
    filename="draft-plan.pdf",
    title="The draft plan (PDF)",
    sha256="0" * 64,
    content_type="application/pdf",
    size=1024,
)


class TemplateInvalid(Exception):
    """The edit cannot even be stored (empty or oversized parts)."""


def sample_content(kind: str) -> context.Content:
    member = family.MEMBER_BY_KIND.get(kind, family.MEMBER_BY_KIND["bulletin"])
    return context.Content(
        subject=member.default_subject.format(title="the draft Police and Crime Plan"),
        preheader="An example preheader: the line inboxes show beside the subject",
        body_markdown=context.SAMPLE_BODY,
    )


def check(
    kind: str, parts: TemplateParts, *, org: dict, settings: Settings, now: datetime
) -> str | None:
    """Why ``parts`` cannot be used for a message of ``kind``, or None."""
    frozen = Frozen(
        template_version_id=0,
        kind=kind,
        parts=parts,
        content=sample_content(kind),
        org=org,
        documents=(SAMPLE_DOCUMENT,),
        link_documents=True,  # nothing to read from disk
    )
    consultation = consultation_or_example(kind, None, settings=settings, now=now)
    try:
        prepared = prepare_frozen(frozen, settings=settings, consultation=consultation, now=now)
        recipient = preview_recipient(
            settings, email="someone@example.org", consultation=consultation
        )
        prepared.personalise(recipient, message_id=message_id(settings.message_id_domain), now=now)
    except TemplateProblem as exc:
        return str(exc)
    for part, rendered in (("html", prepared.html_parts), ("text", prepared.text_parts)):
        if not any(isinstance(p, Slot) and p.field == "links.unsubscribe" for p in rendered):
            return (
                f"{PART_LABELS[part]}: the unsubscribe link is missing. Every message must "
                "offer it (the law and the big mail providers require it): print "
                "{{ links.unsubscribe }}."
            )
    return None


def latest(template: EmailTemplate) -> TemplateVersion:
    return template.versions[-1]


def clean(parts: TemplateParts) -> TemplateParts:
    """The parts as they are stored, or TemplateInvalid (empty or oversized)."""
    parts = TemplateParts(
        subject=one_line(parts.subject),
        preheader=one_line(parts.preheader),
        html=parts.html.replace("\r\n", "\n"),
        text=parts.text.replace("\r\n", "\n"),
    )
    for name in ("subject", "html", "text"):
        if not getattr(parts, name).strip():
            raise TemplateInvalid(f"{PART_LABELS[name]} is empty.")
    for name in ("subject", "preheader", "html", "text"):
        if len(getattr(parts, name)) > MAX_PART_CHARS:
            raise TemplateInvalid(
                f"{PART_LABELS[name]} is longer than {MAX_PART_CHARS} characters."
            )
    return parts


@dataclass(frozen=True)
class Checked:
    """Parts already checked (:func:`check_parts`) and what was found."""

    kind: str
    parts: TemplateParts
    problem: str | None


def check_parts(
    session: Session, kind: str, parts: TemplateParts, *, settings: Settings, now: datetime
) -> Checked:
    """The check of a save, which renders the template (the slow part): done first, in a
    read-only session (Database.reading), so no write lock is held while it runs."""
    parts = clean(parts)
    org = organisation.get(session).snapshot()
    return Checked(kind, parts, check(kind, parts, org=org, settings=settings, now=now))


def save_version(
    session: Session,
    template: EmailTemplate,
    parts: TemplateParts,
    *,
    note: str,
    by: User,
    settings: Settings,
    now: datetime,
    checked: Checked | None = None,
) -> tuple[TemplateVersion, bool]:
    """The new version (checked, audited), or the latest one and False when nothing
    changed. ``checked``: the check already made for these parts, not made again."""
    parts = clean(parts)
    current = latest(template)
    if (current.subject, current.preheader, current.html, current.text) == (
        parts.subject,
        parts.preheader,
        parts.html,
        parts.text,
    ):
        return current, False
    if checked is not None and (checked.kind, checked.parts) == (template.kind, parts):
        problem = checked.problem
    else:
        problem = check(
            template.kind,
            parts,
            org=organisation.get(session).snapshot(),
            settings=settings,
            now=now,
        )
    number = (
        session.scalar(
            select(func.max(TemplateVersion.number)).where(
                TemplateVersion.template_id == template.id
            )
        )
        or 0
    ) + 1
    version = TemplateVersion(
        number=number,
        subject=parts.subject,
        preheader=parts.preheader,
        html=parts.html,
        text=parts.text,
        problem=problem,
        note=one_line(note)[:300],
        created_by_id=by.id,
    )
    template.versions.append(version)
    session.flush()
    audit.record(
        session,
        actions.TEMPLATE_VERSION_SAVED,
        actor=by,
        target_type="template",
        target_id=template.id,
        summary=f'Saved version {number} of "{template.name}"'
        + (f" (cannot be used: {problem})" if problem else ""),
    )
    return version, True


def copy_template(
    session: Session, template: EmailTemplate, *, name: str, by: User
) -> EmailTemplate:
    """A new template starting from ``template``'s latest version."""
    name = one_line(name)[:120]
    if not name:
        raise TemplateInvalid("Give the copy a name.")
    taken = session.scalar(
        select(EmailTemplate.id).where(func.lower(EmailTemplate.name) == name.lower())
    )
    if taken is not None:
        raise TemplateInvalid(f'There is already a template called "{name}".')
    source = latest(template)
    copy = EmailTemplate(name=name, kind=template.kind, description=template.description)
    copy.versions.append(
        TemplateVersion(
            number=1,
            subject=source.subject,
            preheader=source.preheader,
            html=source.html,
            text=source.text,
            problem=source.problem,
            note=f'Copied from "{template.name}" version {source.number}',
            created_by_id=by.id,
        )
    )
    session.add(copy)
    session.flush()
    audit.record(
        session,
        actions.TEMPLATE_COPIED,
        actor=by,
        target_type="template",
        target_id=copy.id,
        summary=f'Copied "{template.name}" to "{name}"',
    )
    return copy
