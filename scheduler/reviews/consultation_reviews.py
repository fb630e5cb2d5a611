"""A consultation's review as a conversation: each submit, approval and send-back is
kept (events.py) and the people it concerns are told (notices.py). The state moves
only through scheduler/consultations/lifecycle.py; these steps run in the same
transaction as the move.

Every function takes a session and never commits; the caller owns the transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from mailer import audit
from mailer.accounts.models import User
from mailer.audit import actions
from scheduler import approval
from scheduler.consultations import lifecycle
from scheduler.consultations.details import ConsultationRefused
from scheduler.models import Consultation
from scheduler.reviews import events, notices, snapshots
from scheduler.reviews.models import APPROVED, SENT_BACK, SUBMITTED


def comment_refusal(comment: str) -> str | None:
    """Why a send-back's comment will not do, or None."""
    if not comment.strip():
        return "Write a comment for the writer: what needs to change before you can approve it."
    if len(comment) > events.MAX_COMMENT:
        return (
            f"The comment is {len(comment):,} characters long; keep it to "
            f"{events.MAX_COMMENT:,} or fewer."
        )
    return None


def subject_of(consultation: Consultation) -> events.Subject:
    return events.Subject(consultation_id=consultation.id)


def _about(consultation: Consultation) -> notices.About:
    return notices.About(what="consultation", title=consultation.title)


def writers(session: Session, consultation: Consultation) -> set[int]:
    """Who made the version under review (told of the outcome): its authors since the
    last approval, its submitter and whoever submitted it before."""
    found = {a.user_id for a in approval.authors(session, consultation) if a.user_id is not None}
    if consultation.submitted_by_id is not None:
        found.add(consultation.submitted_by_id)
    return found | events.contributors(session, subject_of(consultation))


def submitted(
    session: Session,
    consultation: Consultation,
    *,
    by: User,
    now: datetime,
    mailing: notices.Mailing,
) -> None:
    """After lifecycle.submit: keep the step and tell the approvers who may approve."""
    events.record(session, subject_of(consultation), action=SUBMITTED, by=by, now=now)
    authors = {a.user_id for a in approval.authors(session, consultation) if a.user_id}
    notices.awaiting(session, mailing, _about(consultation), by=by, authors=authors, now=now)


def approved(
    session: Session,
    consultation: Consultation,
    *,
    by: User,
    now: datetime,
    mailing: notices.Mailing,
    told: set[int],
) -> None:
    """After lifecycle.approve: keep what was approved (the next diff's base) and tell
    ``told`` (``writers`` read before the approval settled them)."""
    events.record(
        session,
        subject_of(consultation),
        action=APPROVED,
        by=by,
        now=now,
        snapshot=snapshots.of_consultation(session, consultation),
    )
    notices.approved(session, mailing, _about(consultation), by=by, to=told, now=now)


def send_back(
    session: Session,
    consultation: Consultation,
    *,
    by: User,
    comment: str,
    now: datetime,
    mailing: notices.Mailing,
) -> None:
    """Send it back to draft with the approver's comment, shown to the writer until
    they submit again. Raises ConsultationRefused (not awaiting approval, no comment)."""
    if reason := comment_refusal(comment):
        raise ConsultationRefused(reason)
    comment = comment.strip()
    told = writers(session, consultation)
    lifecycle.send_back(session, consultation, by=by, now=now, why="sent it back with a comment")
    events.record(
        session, subject_of(consultation), action=SENT_BACK, by=by, now=now, comment=comment
    )
    audit.record(
        session,
        actions.REVIEW_SENT_BACK,
        actor=by,
        target_type="consultation",
        target_id=consultation.id,
        summary=f'Sent "{consultation.title}" back to draft: {comment[:200]}',
        detail={"comment": comment},
    )
    notices.sent_back(
        session, mailing, _about(consultation), by=by, comment=comment, to=told, now=now
    )
