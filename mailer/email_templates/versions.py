"""Editing templates: every save is a new, checked version; old ones never change.

A version is checked first (mailer.bulletins.template_check renders a sample bulletin
through it). A version with a problem is still kept, so no edit is lost, but the
template cannot be used until a later version fixes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer import audit
from mailer.accounts.models import User
from mailer.audit import actions
from mailer.email_templates.models import EmailTemplate, TemplateVersion
from mailer.rendering.mime import one_line
from mailer.rendering.prepare import TemplateParts
from mailer.rendering.sandbox import PART_LABELS

MAX_PART_CHARS = 200_000


class TemplateInvalid(Exception):
    """The edit cannot even be stored (empty or oversized parts)."""


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


def save_version(
    session: Session,
    template: EmailTemplate,
    parts: TemplateParts,
    *,
    note: str,
    by: User,
    checked: Checked,
) -> tuple[TemplateVersion, bool]:
    """The new version (audited), or the latest one and False when nothing changed.
    ``checked``: the check of these parts (mailer.bulletins.template_check), made first
    and without the write lock, since it renders the template."""
    parts = clean(parts)
    current = latest(template)
    if (current.subject, current.preheader, current.html, current.text) == (
        parts.subject,
        parts.preheader,
        parts.html,
        parts.text,
    ):
        return current, False
    if (checked.kind, checked.parts) != (template.kind, parts):
        raise ValueError("the check given is of other parts than those saved")
    problem = checked.problem
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
