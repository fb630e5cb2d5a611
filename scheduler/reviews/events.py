"""Recording the steps of a review (submitted, approved, sent back) and reading them
back: the history a page shows, the send-back the writer still has to answer, and the
last approved snapshot the next approval is compared with.

Every function takes a session and never commits; the caller owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.accounts import key_authors
from mailer.accounts.key_authors import Writer
from mailer.accounts.models import User
from scheduler.reviews.models import APPROVED, SENT_BACK, SUBMITTED, ReviewEvent

# The longest comment an approver may send back with (a few paragraphs).
MAX_COMMENT = 2000
# Each step as the history lists it (short: the page's own messages say more).
STEP_LABELS = {SUBMITTED: "Submitted", APPROVED: "Approved", SENT_BACK: "Sent back"}


@dataclass(frozen=True)
class Subject:
    """What is reviewed: a consultation, or a bulletin's send (and its bulletin)."""

    consultation_id: int | None = None
    send_id: int | None = None
    bulletin_id: int | None = None

    def __post_init__(self) -> None:
        if (self.consultation_id is None) == (self.send_id is None):
            raise ValueError("a review is of a consultation or of a send, not both")


@dataclass(frozen=True)
class Step:
    """One event as the history shows it."""

    action: str
    label: str
    by: str
    at: datetime
    comment: str


def record(
    session: Session,
    subject: Subject,
    *,
    action: str,
    by: Writer,
    now: datetime,
    comment: str = "",
    snapshot: dict[str, Any] | None = None,
) -> ReviewEvent:
    """Add one step of the review (in the caller's transaction)."""
    event = ReviewEvent(
        consultation_id=subject.consultation_id,
        send_id=subject.send_id,
        bulletin_id=subject.bulletin_id,
        action=action,
        user_id=by.id,
        user_email=by.email,
        comment=comment,
        snapshot=dict(snapshot or {}),
        at=now,
    )
    session.add(event)
    session.flush()
    return event


def _of(subject: Subject) -> Any:
    if subject.consultation_id is not None:
        return ReviewEvent.consultation_id == subject.consultation_id
    return ReviewEvent.send_id == subject.send_id


def events(session: Session, subject: Subject) -> list[ReviewEvent]:
    """Its steps, oldest first."""
    return list(
        session.scalars(
            select(ReviewEvent).where(_of(subject)).order_by(ReviewEvent.at, ReviewEvent.id)
        )
    )


def history(session: Session, subject: Subject) -> list[Step]:
    """Its steps as a page lists them, newest first, each naming the person (or the
    API key, and who made it)."""
    found = events(session, subject)
    users = _users(session, {e.user_id for e in found if e.user_id is not None})
    return [_step(e, users) for e in reversed(found)]


def _step(event: ReviewEvent, users: dict[int, User]) -> Step:
    return Step(
        action=event.action,
        label=STEP_LABELS.get(event.action, event.action),
        by=key_authors.kept_name(event.user_email, users.get(event.user_id or 0)),
        at=event.at,
        comment=event.comment,
    )


def _users(session: Session, ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}


def last_by(session: Session, subject: Subject, action: str) -> str | None:
    """Who took the latest step ``action`` (submitted, approved), as a page names them:
    a key's step is the key's, not its maker's. None: no such step kept."""
    event = session.scalar(
        select(ReviewEvent)
        .where(_of(subject), ReviewEvent.action == action)
        .order_by(ReviewEvent.at.desc(), ReviewEvent.id.desc())
        .limit(1)
    )
    if event is None:
        return None
    return _step(event, _users(session, {event.user_id} if event.user_id else set())).by


def latest(session: Session, subject: Subject) -> ReviewEvent | None:
    return session.scalar(
        select(ReviewEvent)
        .where(_of(subject))
        .order_by(ReviewEvent.at.desc(), ReviewEvent.id.desc())
        .limit(1)
    )


def open_send_back(session: Session, subject: Subject) -> Step | None:
    """The approver's send-back the writer has not yet answered by submitting again:
    the last step, when it is a send-back."""
    last = latest(session, subject)
    if last is None or last.action != SENT_BACK:
        return None
    return _step(last, _users(session, {last.user_id} if last.user_id else set()))


def last_approved(session: Session, subject: Subject) -> ReviewEvent | None:
    """The last approval to compare with: of the consultation, or of any send of the
    same bulletin (a second send of the same words is compared with the first)."""
    if subject.consultation_id is not None:
        where = ReviewEvent.consultation_id == subject.consultation_id
    elif subject.bulletin_id is not None:
        where = ReviewEvent.bulletin_id == subject.bulletin_id
    else:
        where = ReviewEvent.send_id == subject.send_id
    return session.scalar(
        select(ReviewEvent)
        .where(where, ReviewEvent.action == APPROVED)
        .order_by(ReviewEvent.at.desc(), ReviewEvent.id.desc())
        .limit(1)
    )


def contributors(session: Session, subject: Subject) -> set[int]:
    """The accounts that submitted it since its last approval (the writer told of the
    outcome), besides those noted as authors."""
    since = last_approved(session, subject)
    return {
        e.user_id
        for e in events(session, subject)
        if e.user_id is not None
        and e.action != APPROVED
        and e.action != SENT_BACK
        and (since is None or (e.at, e.id) > (since.at, since.id))
    }
