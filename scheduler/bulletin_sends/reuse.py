"""Copy, archive and delete a bulletin, knowing its sends.

The rules are in ``mailer.bulletins.reuse``; a bulletin's sends belong to delivery (and
its timeline to a consultation), which sit above bulletins, so they are read here and
handed down. Deleting a draft also removes its sends that never went (drafts, and
sends cancelled before they fired): nothing about them is worth keeping.

Every function takes a session and never commits; the caller owns the transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.accounts.models import User
from mailer.bulletins import reuse
from mailer.bulletins.models import Bulletin
from mailer.delivery import send_states
from mailer.delivery.models import (
    SEND_AWAITING_APPROVAL,
    SEND_CANCELLED,
    SEND_DRAFT,
    SEND_MISSED,
    SEND_PAUSED,
    SEND_SCHEDULED,
    SEND_SENDING,
    Send,
)
from scheduler.models import CANCELLED, Consultation

ReuseRefused = reuse.ReuseRefused

# A send still on its way, as the refusal names it (its first one, in this order).
IN_PROGRESS = {
    SEND_AWAITING_APPROVAL: "awaiting approval",
    SEND_SCHEDULED: "scheduled",
    SEND_SENDING: "sending",
    SEND_PAUSED: "paused",
    SEND_MISSED: "missed (waiting for someone to send it now or cancel it)",
}


def sends_of(session: Session, bulletin_id: int) -> reuse.SendFacts:
    rows = session.execute(
        select(Send.state, Send.fired_at, Send.consultation_id).where(
            Send.bulletin_id == bulletin_id
        )
    ).all()
    states = {row.state for row in rows}
    in_progress = next((label for state, label in IN_PROGRESS.items() if state in states), None)
    went = any(
        row.fired_at is not None or row.state not in (SEND_DRAFT, SEND_CANCELLED) for row in rows
    )
    consultation = None
    owner = next((row.consultation_id for row in rows if row.consultation_id), None)
    if owner is not None:
        consultation = session.get(Consultation, owner)
    return reuse.SendFacts(
        in_progress=in_progress,
        went=went,
        timeline=consultation.title if consultation else None,
        consultation_id=(
            consultation.id if consultation and consultation.state != CANCELLED else None
        ),
    )


def copy(session: Session, bulletin: Bulletin, *, by: User, now: datetime) -> Bulletin:
    """A new draft of ``bulletin`` (a timeline message's copy is about its consultation)."""
    return reuse.copy(session, bulletin, by=by, now=now, facts=sends_of(session, bulletin.id))


def archive(session: Session, bulletin: Bulletin, *, by: User, now: datetime) -> None:
    reuse.archive(session, bulletin, by=by, now=now, facts=sends_of(session, bulletin.id))


def unarchive(session: Session, bulletin: Bulletin, *, by: User) -> None:
    reuse.unarchive(session, bulletin, by=by)


def delete_refusal(session: Session, bulletin: Bulletin) -> str | None:
    """Why it may not be deleted (shown before asking to confirm), or None."""
    return reuse.delete_refusal(sends_of(session, bulletin.id))


def delete(session: Session, bulletin: Bulletin, *, by: User, now: datetime) -> str:
    """Delete a draft; its sends that never went are cancelled and kept (without their
    bulletin), so a send's number is never given to another one. Returns its subject."""
    facts = sends_of(session, bulletin.id)
    if (refusal := reuse.delete_refusal(facts)) is not None:
        raise ReuseRefused(refusal)
    for send in session.scalars(
        select(Send).where(
            Send.bulletin_id == bulletin.id, Send.fired_at.is_(None), Send.state == SEND_DRAFT
        )
    ):
        send_states.cancel(send, now=now)
    return reuse.delete(session, bulletin, by=by, facts=facts)
