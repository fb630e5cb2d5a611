"""What the approval panel and the review history show: who wrote it and who
submitted it (names, when), what changed since the last approved version, the
send-back the writer has still to answer, and every step so far."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.accounts import key_authors
from mailer.accounts.models import User
from mailer.bulletins.compose import CREATED
from mailer.bulletins.models import Bulletin, BulletinContribution
from mailer.delivery.models import SEND_AWAITING_APPROVAL, SEND_DRAFT, Send
from scheduler.models import AWAITING_APPROVAL, DRAFT, Consultation
from scheduler.reviews import diff, events, snapshots
from scheduler.reviews.consultation_reviews import subject_of as consultation_subject
from scheduler.reviews.models import APPROVED, SUBMITTED
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


def _key_or_person(
    session: Session, kept: str | None, user_id: int | None, at: datetime | None
) -> Person | None:
    """A step kept under a key's label names the key (and its maker); else the person."""
    if kept is not None:
        return Person(kept, at)
    return _person(session, user_id, at)


def _bulletin_writer(session: Session, bulletin: Bulletin) -> Person | None:
    """Who wrote the bulletin: its creator, or the API key that created it."""
    if bulletin.created_by_id is not None:
        return _person(session, bulletin.created_by_id, bulletin.created_at)
    first = session.scalar(
        select(BulletinContribution)
        .where(
            BulletinContribution.bulletin_id == bulletin.id,
            BulletinContribution.action == CREATED,
        )
        .order_by(BulletinContribution.at, BulletinContribution.id)
        .limit(1)
    )
    if first is None or not key_authors.is_label(first.user_email):
        return None
    maker = session.get(User, first.user_id) if first.user_id is not None else None
    return Person(key_authors.kept_name(first.user_email, maker), bulletin.created_at)


@dataclass(frozen=True)
class SendPeople:
    """Who submitted and who approved a send, as its page names them."""

    submitted_by: str | None
    approved_by: str | None


def send_people(session: Session, send: Send) -> SendPeople:
    """A key's step names the key, not its maker (whose account the send's
    ``submitted_by_id`` and ``approved_by_id`` keep for the two-person rule)."""
    subject = send_subject(send)
    submitted = _key_or_person(
        session, events.last_by(session, subject, SUBMITTED), send.submitted_by_id, None
    )
    approved = _key_or_person(
        session, events.last_by(session, subject, APPROVED), send.approved_by_id, None
    )
    return SendPeople(
        submitted_by=submitted.name if submitted and send.submitted_at else None,
        approved_by=approved.name if approved and send.approved_at else None,
    )


def for_send(session: Session, send: Send, bulletin: Bulletin) -> Panel:
    subject = send_subject(send)
    waiting = send.state == SEND_AWAITING_APPROVAL
    return Panel(
        written_by=_bulletin_writer(session, bulletin),
        submitted_by=_key_or_person(
            session,
            events.last_by(session, subject, SUBMITTED),
            send.submitted_by_id,
            send.submitted_at,
        )
        if waiting
        else None,
        changes=_changes(session, subject, snapshots.of_send(session, send)) if waiting else None,
        sent_back=events.open_send_back(session, subject) if send.state == SEND_DRAFT else None,
        history=events.history(session, subject),
    )
