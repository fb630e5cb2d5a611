"""What is approved, as a person reads it, in plain data: each message's words, the
audience by name and the times on the timeline. An approval keeps this in its
review event, so the next approver sees what changed since (diff.py).

    {"messages": [{"label", "subject", "preheader", "body"}],
     "audience": ["List: Partners", "Organisation type: Parish councils", ...],
     "timeline": [{"label", "at"}],     (at: ISO time in UTC, or None)
     "details": {"title", "summary", "survey_url", "type", "opens_at", "closes_at",
                 "documents": [names], "late_joiners", "skip_responders"}}
                 (a consultation's own details; older snapshots have none)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts.audience import Audience
from contacts.models import ContactList, OrganisationType
from mailer.bulletins import messages
from mailer.bulletins.models import Bulletin
from mailer.delivery.models import SEND_CANCELLED, Send
from scheduler.approval import utc
from scheduler.consultations.planning import timeline
from scheduler.models import TYPE_LABELS, Consultation


def _words(session: Session, send: Send, label: str) -> dict[str, str]:
    """The words the send goes with: frozen once approved, else its bulletin's now."""
    if send.frozen:
        content = messages.Frozen.from_json(send.frozen).content
        subject, preheader, body = content.subject, content.preheader, content.body_markdown
    else:
        bulletin = session.get(Bulletin, send.bulletin_id) if send.bulletin_id else None
        if bulletin is None:
            subject = preheader = body = ""
        else:
            subject, preheader = bulletin.subject, bulletin.preheader
            body = bulletin.body_markdown
    return {"label": label, "subject": subject, "preheader": preheader, "body": body}


def audience_names(session: Session, data: dict[str, Any] | None) -> list[str]:
    """Each part of an audience in words, one item each, so a diff can say which part
    was added or removed."""
    audience = Audience.from_json(data)
    lists = _by_id(session, ContactList, {*audience.lists, *audience.exclude_lists})
    types = _by_id(session, OrganisationType, set(audience.organisation_types))
    names = [f"List: {lists.get(i, f'#{i}')}" for i in audience.lists]
    names += [f"Organisation type: {types.get(i, f'#{i}')}" for i in audience.organisation_types]
    names += [f"Tag: {tag}" for tag in audience.tags]
    names += [f"Area: {area}" for area in audience.areas]
    names += [f"Leaving out list: {lists.get(i, f'#{i}')}" for i in audience.exclude_lists]
    return names


def _by_id(session: Session, model: Any, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {row.id: row.name for row in session.scalars(select(model).where(model.id.in_(ids)))}


def of_consultation(session: Session, consultation: Consultation) -> dict[str, Any]:
    sends = [s for s in timeline(session, consultation) if s.state != SEND_CANCELLED]
    return {
        "messages": [_words(session, s, s.label) for s in sends if s.bulletin_id],
        "audience": audience_names(session, consultation.audience),
        "timeline": [{"label": s.label, "at": utc(s.due_at)} for s in sends],
        "details": details(consultation),
    }


def details(consultation: Consultation) -> dict[str, Any]:
    """The consultation's own details an approver agrees to, besides its messages: a
    changed survey address or closing time must show in the next approval's diff."""
    return {
        "title": consultation.title,
        "summary": consultation.summary or "",
        "survey_url": consultation.survey_url,
        "type": TYPE_LABELS.get(consultation.type, consultation.type),
        "opens_at": utc(consultation.opens_at),
        "closes_at": utc(consultation.closes_at),
        "documents": [d.title or d.filename for d in consultation.documents],
        "late_joiners": bool(consultation.late_joiners),
        "skip_responders": bool(consultation.skip_responders),
    }


def of_send(session: Session, send: Send) -> dict[str, Any]:
    """A bulletin's send: its words, its audience, and the time asked for (None: as
    soon as it is approved)."""
    return {
        "messages": [_words(session, send, "The bulletin")],
        "audience": audience_names(session, send.audience),
        "timeline": [{"label": "Time asked for", "at": utc(send.requested_at)}],
    }
