"""Reusing bulletins: copy any bulletin as a new draft, archive and unarchive, delete a
draft.

Whether a bulletin may be archived or deleted depends on its sends, and sends belong
to delivery, which sits above bulletins: the caller reads them
(``scheduler.bulletin_sends.reuse.sends_of``) and hands them in as :class:`SendFacts`.
The rules themselves stay here, with the bulletin.

Every function takes a session and never commits; the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from mailer import audit
from mailer.accounts.models import User
from mailer.audit import actions
from mailer.bulletins.models import Bulletin, BulletinAttachment, BulletinContribution
from mailer.email_templates.models import KIND_LABELS


class ReuseRefused(Exception):
    """The sentence says why, as the person reads it."""


@dataclass(frozen=True)
class SendFacts:
    """What reuse needs to know of a bulletin's sends.

    ``in_progress``: how a send still on its way reads ("awaiting approval",
    "scheduled", "sending", ...), or None. ``went``: a send of it went, even in part.
    ``timeline``: the title of the consultation whose timeline message it is, or None.
    ``consultation_id``: that consultation's id (a copy is about it)."""

    in_progress: str | None = None
    went: bool = False
    timeline: str | None = None
    consultation_id: int | None = None


NO_SENDS = SendFacts()


def copy(
    session: Session,
    bulletin: Bulletin,
    *,
    by: User,
    now: datetime,
    facts: SendFacts = NO_SENDS,
) -> Bulletin:
    """A new draft with ``bulletin``'s words, template and documents, written by ``by``.

    A consultation's timeline message becomes a bulletin of the same kind about that
    consultation, on no timeline. Documents are reused by their stored file: nothing is
    uploaded again."""
    copied = Bulletin(
        kind=bulletin.kind,
        template_id=bulletin.template_id,
        subject=bulletin.subject,
        preheader=bulletin.preheader,
        body_markdown=bulletin.body_markdown,
        link_documents=bulletin.link_documents,
        # The template's blocks as the writer set them: they go with the words.
        blocks=dict(bulletin.blocks or {}),
        consultation_id=bulletin.consultation_id or facts.consultation_id,
        copied_from_id=bulletin.id,
        created_by_id=by.id,
        created_at=now,
        updated_at=now,
    )
    copied.attachments = [
        BulletinAttachment(
            file_id=a.file_id, filename=a.filename, title=a.title, position=a.position
        )
        for a in bulletin.attachments
    ]
    session.add(copied)
    session.flush()
    session.add(
        BulletinContribution(
            bulletin_id=copied.id,
            user_id=by.id,
            user_email=by.email,
            action="created",
            part=f"a copy of bulletin {bulletin.id}",
            at=now,
        )
    )
    audit.record(
        session,
        actions.BULLETIN_COPIED,
        actor=by,
        target_type="bulletin",
        target_id=copied.id,
        summary=(
            f'Copied the {KIND_LABELS[bulletin.kind].lower()} "{bulletin.subject}" '
            f"(bulletin {bulletin.id}) as a new draft"
        ),
    )
    session.flush()
    return copied


def archive(
    session: Session, bulletin: Bulletin, *, by: User, now: datetime, facts: SendFacts
) -> None:
    """Take it out of the everyday list; its sends and reports stay."""
    if bulletin.archived_at is not None:
        return
    if facts.in_progress:
        raise ReuseRefused(
            f"It has a send {facts.in_progress}: archive it once that send is finished "
            "or cancelled."
        )
    bulletin.archived_at = now
    audit.record(
        session,
        actions.BULLETIN_ARCHIVED,
        actor=by,
        target_type="bulletin",
        target_id=bulletin.id,
        summary=f'Archived "{bulletin.subject}"',
    )


def unarchive(session: Session, bulletin: Bulletin, *, by: User) -> None:
    if bulletin.archived_at is None:
        return
    bulletin.archived_at = None
    audit.record(
        session,
        actions.BULLETIN_UNARCHIVED,
        actor=by,
        target_type="bulletin",
        target_id=bulletin.id,
        summary=f'Brought "{bulletin.subject}" back from the archive',
    )


def delete_refusal(facts: SendFacts) -> str | None:
    """Why this bulletin may not be deleted, or None."""
    if facts.timeline is not None:
        return (
            f'It is a message on the timeline of "{facts.timeline}": change the '
            "consultation's timeline instead."
        )
    if facts.in_progress:
        return f"It has a send {facts.in_progress}; withdraw or cancel that send first."
    if facts.went:
        return "It was sent; archive it instead."
    return None


def delete(session: Session, bulletin: Bulletin, *, by: User, facts: SendFacts) -> str:
    """Delete a draft (and its documents' places on it; the stored files stay for any
    other bulletin using them). Returns its subject, for the message shown."""
    if (refusal := delete_refusal(facts)) is not None:
        raise ReuseRefused(refusal)
    subject = bulletin.subject
    audit.record(
        session,
        actions.BULLETIN_DELETED,
        actor=by,
        target_type="bulletin",
        target_id=bulletin.id,
        summary=f'Deleted the draft "{subject}"',
    )
    session.delete(bulletin)
    session.flush()
    return subject
