"""What the approval panel and the review history show: who wrote it and who
submitted it (names, when), what changed since the last approved version, the
send-back the writer has still to answer, and every step so far."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from mailer.accounts.models import User
from mailer.delivery.models import SEND_AWAITING_APPROVAL, SEND_DRAFT, Send
from scheduler.models import AWAITING_APPROVAL, DRAFT, Consultation
from scheduler.reviews import diff, events, snapshots
from scheduler.reviews.consultation_reviews import subject_of as consultation_subject
from scheduler.reviews.send_reviews import subject_of as send_subject


@dataclass(frozen=True)
class Person:
    name: str
    at: datetime | None


@dataclass(frozen=True)
class Panel:
    written_by: Person | None
    submitted_by: Person | None
    changes: diff.Changes | None  # None: not awaiting approval
    sent_back: events.Step | None  # shown to the writer until they submit again
    history: list[events.Step]


def _person(session: Session, user_id: int | None, at: datetime | None) -> Person | None:
    user = session.get(User, user_id) if user_id is not None else None
    if user is None:
        return None
    return Person(f"{user.name} ({user.email})" if user.name else user.email, at)


def _changes(
    session: Session, subject: events.Subject, now: dict[str, Any], *, differs: bool = False
) -> diff.Changes:
    before = events.last_approved(session, subject)
    return diff.compare(before.snapshot if before is not None else None, now, differs=differs)


def for_consultation(
    session: Session, consultation: Consultation, *, version: str | None = None
) -> Panel:
    """``version``: the content hash of what an approval now would freeze; when it is
    not the one last approved, the panel never says that nothing changed."""
    subject = consultation_subject(consultation)
    waiting = consultation.state == AWAITING_APPROVAL
    differs = bool(version and consultation.approved_hash and version != consultation.approved_hash)
    return Panel(
        written_by=_person(session, consultation.created_by_id, consultation.created_at),
        submitted_by=_person(session, consultation.submitted_by_id, consultation.submitted_at)
        if waiting
        else None,
        changes=_changes(
            session, subject, snapshots.of_consultation(session, consultation), differs=differs
        )
        if waiting
        else None,
        sent_back=events.open_send_back(session, subject) if consultation.state == DRAFT else None,
        history=events.history(session, subject),
    )


def for_send(
    session: Session, send: Send, *, created_by_id: int | None, created_at: datetime | None
) -> Panel:
    subject = send_subject(send)
    waiting = send.state == SEND_AWAITING_APPROVAL
    return Panel(
        written_by=_person(session, created_by_id, created_at),
        submitted_by=_person(session, send.submitted_by_id, send.submitted_at) if waiting else None,
        changes=_changes(session, subject, snapshots.of_send(session, send)) if waiting else None,
        sent_back=events.open_send_back(session, subject) if send.state == SEND_DRAFT else None,
        history=events.history(session, subject),
    )
