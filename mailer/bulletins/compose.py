"""Writing bulletins: create and edit, checked and audited in one place.

Whoever creates or edits a bulletin (its words here, its attachments in files.py) is
noted as a contributor (``BulletinContribution``): under the two-person rule nobody
noted since its last approved send may approve its next one
(scheduler/bulletin_sends/approval.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer import audit
from mailer.accounts import key_authors
from mailer.accounts.key_authors import Writer, audit_actor, user_id
from mailer.accounts.models import User
from mailer.audit import actions
from mailer.bulletins import blocks
from mailer.bulletins.models import Bulletin, BulletinContribution
from mailer.database import row_version
from mailer.email_templates.models import KIND_LABELS, KINDS, EmailTemplate
from mailer.rendering.mime import one_line

# Inboxes show the first 40 to 90 characters; past 200 a subject is an essay (and a
# long one still goes out folded, mailer.rendering.mime.text_header).
MAX_SUBJECT = 200
MAX_PREHEADER = 300
MAX_BODY = 100_000

# What a contributor did (the same words as a consultation's, scheduler/approval.py).
CREATED = "created"
EDITED = "edited"
SUBMITTED = "submitted"

# How an edit's contribution (and its audit entry) names what changed.
FIELD_LABELS = {
    "template": "template",
    "subject": "subject",
    "preheader": "preheader",
    "body_markdown": "words",
    "link_documents": "documents as links",
    "blocks": "template blocks",
}


def note(
    session: Session,
    bulletin: Bulletin,
    *,
    by: Writer,
    action: str,
    part: str = "",
    now: datetime | None = None,
) -> None:
    """Record that ``by`` created, edited or submitted ``part`` of the bulletin (at
    ``now``, or the database's clock for steps not given one)."""
    session.add(
        BulletinContribution(
            bulletin_id=bulletin.id,
            user_id=by.id,
            user_email=by.email,
            action=action,
            part=part[:300],
            **({} if now is None else {"at": now}),
        )
    )
    session.flush()


@dataclass
class BulletinInvalid(Exception):
    """Field name -> what is wrong with it, for the form."""

    errors: dict[str, str]


class BulletinChanged(Exception):
    """Someone saved the bulletin since the form was opened; saving the form now would
    put back what they changed. The message says who and when."""


def version_of(bulletin: Bulletin) -> str:
    """What the compose form was loaded from (its hidden ``loaded_at``)."""
    return row_version(bulletin.updated_at)


def check_unchanged(
    session: Session,
    bulletin: Bulletin,
    *,
    loaded: str | None,
    say_when: Callable[[datetime], str],
) -> None:
    """Refuse to save a form loaded from an older version of the bulletin (two tabs,
    two people). ``loaded`` None: a form without the field (an older page, a script),
    which saves as before. Raises BulletinChanged."""
    if loaded is None or loaded == version_of(bulletin):
        return
    last = session.scalar(
        select(BulletinContribution)
        .where(
            BulletinContribution.bulletin_id == bulletin.id,
            BulletinContribution.action.in_((CREATED, EDITED)),
        )
        .order_by(BulletinContribution.at.desc(), BulletinContribution.id.desc())
        .limit(1)
    )
    who = "Someone"
    if last is not None:
        user = session.get(User, last.user_id) if last.user_id else None
        if key_authors.is_label(last.user_email):
            name = key_authors.kept_name(last.user_email, user)
        else:
            name = user.display_name if user else last.user_email
        who = f"Someone ({name})"
    at = say_when(bulletin.updated_at) if bulletin.updated_at else "a moment ago"
    raise BulletinChanged(
        f"{who} saved this bulletin at {at} since you opened it. Your words are below; "
        "copy what you need, then reload."
    )


@dataclass(frozen=True)
class Draft:
    """What the compose form sends."""

    kind: str
    template_id: int | None
    subject: str
    preheader: str
    body_markdown: str
    link_documents: bool = False
    # The template's blocks switched off or reworded (mailer/bulletins/blocks.py);
    # None leaves the stored choices as they are (a form that does not show them).
    blocks: dict[str, Any] | None = None


def templates_for(session: Session, kind: str) -> list[EmailTemplate]:
    return list(
        session.scalars(
            select(EmailTemplate).where(EmailTemplate.kind == kind).order_by(EmailTemplate.id)
        )
    )


def _clean(session: Session, draft: Draft) -> dict[str, object]:
    errors: dict[str, str] = {}
    if draft.kind not in KINDS:
        errors["kind"] = "Choose what the bulletin is for."
    subject = one_line(draft.subject)
    if not subject:
        errors["subject"] = "Write a subject: it is the first thing a stakeholder reads."
    elif len(subject) > MAX_SUBJECT:
        errors["subject"] = (
            f"The subject is {len(subject)} characters long; use at most {MAX_SUBJECT} "
            "(inboxes show only the first 40 to 90)."
        )
    preheader = one_line(draft.preheader)
    if len(preheader) > MAX_PREHEADER:
        errors["preheader"] = f"Use at most {MAX_PREHEADER} characters."
    body = draft.body_markdown.replace("\r\n", "\n")
    if len(body) > MAX_BODY:
        errors["body_markdown"] = f"The message is over {MAX_BODY:,} characters; shorten it."
    errors.update(blocks.too_long(draft.blocks))
    template = session.get(EmailTemplate, draft.template_id) if draft.template_id else None
    if draft.template_id and template is None:
        # A template deleted while the form was open: say so rather than pick another.
        errors["template_id"] = "That template no longer exists; choose another."
    elif template is None and draft.kind in KINDS:
        choices = templates_for(session, draft.kind)
        template = choices[0] if choices else None
    if template is None:
        errors.setdefault("template_id", "Choose a template.")
    elif draft.kind in KINDS and template.kind != draft.kind:
        errors["template_id"] = (
            f'"{template.name}" is a template for a {KIND_LABELS[template.kind].lower()}; '
            f"choose one made for a {KIND_LABELS[draft.kind].lower()}."
        )
    if errors:
        raise BulletinInvalid(errors)
    values: dict[str, object] = {
        "kind": draft.kind,
        "template": template,
        "subject": subject,
        "preheader": preheader,
        "body_markdown": body,
        "link_documents": bool(draft.link_documents),
    }
    if draft.blocks is not None:
        values["blocks"] = blocks.clean(draft.blocks)
    return values


def create(session: Session, draft: Draft, *, by: Writer) -> Bulletin:
    values = _clean(session, draft)
    bulletin = Bulletin(**values, created_by_id=user_id(by))
    session.add(bulletin)
    session.flush()
    note(session, bulletin, by=by, action=CREATED, part="the bulletin")
    audit.record(
        session,
        actions.BULLETIN_CREATED,
        **audit_actor(by),
        target_type="bulletin",
        target_id=bulletin.id,
        summary=f'Created the {KIND_LABELS[bulletin.kind].lower()} "{bulletin.subject}"',
    )
    return bulletin


def update(session: Session, bulletin: Bulletin, draft: Draft, *, by: Writer) -> list[str]:
    """Save the edit; returns the names of what changed (nothing is audited if none)."""
    values = _clean(session, Draft(**{**draft.__dict__, "kind": bulletin.kind}))
    changed = []
    for name, value in values.items():
        current = getattr(bulletin, name)
        if name == "blocks":
            current = blocks.clean(current)  # stored before cleaning, or None
        if current != value:
            setattr(bulletin, name, value)
            changed.append(name)
    if changed:
        what = ", ".join(FIELD_LABELS.get(n, n) for n in changed)
        note(session, bulletin, by=by, action=EDITED, part=what)
        audit.record(
            session,
            actions.BULLETIN_CHANGED,
            **audit_actor(by),
            target_type="bulletin",
            target_id=bulletin.id,
            summary=f'Edited "{bulletin.subject}": {what}',
        )
    return changed
