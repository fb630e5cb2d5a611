"""Bulletins about a consultation, and a timeline message taking an existing bulletin's
words.

A bulletin may be about a consultation (``Bulletin.consultation_id``): its survey, page
and document links then work in it, as they do in the consultation's own messages, and
it carries the consultation's documents (reused by their stored file, never uploaded
again) with any of its own. ``about`` is what such a bulletin shows in a preview and
freezes with at approval, in one place for both.

A consultation's timeline message can start from a bulletin already written (one about
this consultation, or a general one) instead of being retyped: ``use_words``.

Every function takes a session and never commits; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from mailer.accounts.models import User
from mailer.bulletins import compose
from mailer.bulletins.consultation_facts import FrozenConsultation
from mailer.bulletins.context import ConsultationView
from mailer.bulletins.models import Bulletin, BulletinContribution
from mailer.delivery.models import SEND_DRAFT, Send
from mailer.email_templates.models import KIND_BULLETIN
from scheduler import edits
from scheduler.consultations.lifecycle import refuse_if_finished
from scheduler.consultations.read_models import public_condition
from scheduler.models import CANCELLED, Consultation

# The bulletins offered as words for a timeline message, newest first.
MAX_SOURCES = 200


class AboutRefused(Exception):
    """The sentence says why."""


@dataclass(frozen=True)
class About:
    """What a bulletin about a consultation is rendered and frozen with.

    ``documents``: the consultation's documents, then the bulletin's own ones not among
    them (anything with filename, title and file, as ``messages.freeze`` takes);
    ``extra``: the consultation's facts, as ``messages.freeze`` keeps them; ``view``: the
    consultation as the message shows it."""

    consultation: Consultation
    documents: Sequence[Any]
    extra: dict[str, Any]
    view: ConsultationView


def about(session: Session, bulletin: Bulletin, base_url: str) -> About | None:
    """The consultation ``bulletin`` is about, as previews, test sends and approval use
    it; None for a bulletin about no consultation."""
    if bulletin.consultation_id is None:
        return None
    consultation = session.get(Consultation, bulletin.consultation_id)
    if consultation is None:
        return None
    facts = FrozenConsultation.of(consultation, base_url=base_url)
    carried = {d.file_id for d in consultation.documents}
    documents: list[Any] = [
        *consultation.documents,
        *(a for a in bulletin.attachments if a.file_id not in carried),
    ]
    return About(
        consultation=consultation, documents=documents, extra=facts.extra(), view=facts.view()
    )


def choices(session: Session) -> list[Consultation]:
    """The consultations a bulletin can be about: any not cancelled, newest first."""
    return list(
        session.scalars(
            select(Consultation)
            .where(Consultation.state != CANCELLED)
            .order_by(Consultation.opens_at.desc(), Consultation.id.desc())
        )
    )


def set_about(
    session: Session, bulletin: Bulletin, consultation_id: int | None, *, by: User, now: datetime
) -> list[str]:
    """Make ``bulletin`` about that consultation (None: about none). Returns the names of
    what changed (["consultation"] or []), as ``compose.update`` does."""
    if consultation_id == bulletin.consultation_id:
        return []
    if consultation_id is not None:
        consultation = session.get(Consultation, consultation_id)
        if consultation is None:
            raise AboutRefused("Choose a consultation from the list.")
        if consultation.state == CANCELLED:
            raise AboutRefused(
                f'"{consultation.title}" was cancelled; a bulletin cannot be about it.'
            )
    bulletin.consultation_id = consultation_id
    session.add(
        BulletinContribution(
            bulletin_id=bulletin.id,
            user_id=by.id,
            user_email=by.email,
            action="edited",
            part="the consultation it is about",
            at=now,
        )
    )
    session.flush()
    return ["consultation"]


def word_sources(session: Session, consultation: Consultation) -> list[Bulletin]:
    """Bulletins a timeline message of ``consultation`` may take its words from: those
    about it and general ones, not archived, and none of any timeline's own messages."""
    on_a_timeline = select(Send.bulletin_id).where(
        Send.consultation_id.is_not(None), Send.bulletin_id.is_not(None)
    )
    return list(
        session.scalars(
            select(Bulletin)
            .where(
                Bulletin.archived_at.is_(None),
                or_(
                    Bulletin.consultation_id == consultation.id,
                    Bulletin.consultation_id.is_(None) & (Bulletin.kind == KIND_BULLETIN),
                ),
                Bulletin.id.not_in(on_a_timeline),
            )
            .order_by(Bulletin.updated_at.desc(), Bulletin.id.desc())
            .limit(MAX_SOURCES)
        )
    )


def use_words(
    session: Session,
    consultation: Consultation,
    send: Send,
    source: Bulletin,
    *,
    by: User,
    now: datetime,
) -> str | None:
    """Copy ``source``'s subject, preheader, words and template (when it is one made for
    this kind of message) into the bulletin of ``send``, a message on ``consultation``'s
    timeline not yet approved. Noted as an edit of the consultation; one awaiting
    approval returns to draft (the returned sentence says so)."""
    if send.consultation_id != consultation.id or send.bulletin_id is None:
        raise AboutRefused("That message is not on this consultation's timeline.")
    refuse_if_finished(session, consultation, now)
    target = session.get(Bulletin, send.bulletin_id)
    if target is None:
        raise AboutRefused("That message has no words to replace.")
    if source.id == target.id or source not in word_sources(session, consultation):
        raise AboutRefused(
            "Choose a bulletin about this consultation, or a general one, from the list."
        )
    try:
        edits.before_message_edit(session, target)
    except edits.MessageLocked as exc:
        raise AboutRefused(str(exc)) from None
    session.refresh(send)
    if send.state != SEND_DRAFT:
        raise AboutRefused(f'The message "{send.label}" was approved as it is; it cannot change.')
    template_id = target.template_id
    if source.template.kind == target.kind:
        template_id = source.template_id
    changed = compose.update(
        session,
        target,
        compose.Draft(
            kind=target.kind,
            template_id=template_id,
            subject=source.subject,
            preheader=source.preheader,
            body_markdown=source.body_markdown,
            link_documents=target.link_documents,
        ),
        by=by,
    )
    return edits.message_changed(session, target, changed=changed, by=by, now=now)


def unpublished(session: Session, bulletin: Bulletin) -> str | None:
    """Why a bulletin about a consultation cannot go yet: the consultation's page (and
    so its share and document links) is not public until it is approved. None when it
    is public, or the bulletin is about none."""
    if bulletin.consultation_id is None:
        return None
    public = session.scalar(
        select(Consultation.id).where(
            Consultation.id == bulletin.consultation_id, public_condition()
        )
    )
    if public is not None:
        return None
    consultation = session.get(Consultation, bulletin.consultation_id)
    title = consultation.title if consultation else "its consultation"
    return (
        f'It is about "{title}", whose public page and links work only once that '
        "consultation is approved; send it then, or choose no consultation."
    )
