"""A bulletin send's review as a conversation, as consultation_reviews.py does for a
consultation. The send's state moves only through mailer/delivery/send_states.py (by
way of scheduler/bulletin_sends/requests.py).

Every function takes a session and never commits; the caller owns the transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from mailer import audit
from mailer.accounts.key_authors import Writer
from mailer.accounts.models import User
from mailer.audit import actions
from mailer.bulletins.models import Bulletin
from mailer.delivery.models import SEND_AWAITING_APPROVAL, SEND_LABELS, Send
from scheduler.bulletin_sends import approval, requests
from scheduler.reviews import events, notices, snapshots
from scheduler.reviews.consultation_reviews import comment_refusal
from scheduler.reviews.models import APPROVED, SENT_BACK, SUBMITTED


def subject_of(send: Send) -> events.Subject:
    return events.Subject(send_id=send.id, bulletin_id=send.bulletin_id)


def _about(send: Send) -> notices.About:
    return notices.About(what="bulletin", title=send.title)


def writers(session: Session, send: Send, bulletin: Bulletin) -> set[int]:
    found = {a.user_id for a in approval.authors(session, bulletin) if a.user_id is not None}
    if send.submitted_by_id is not None:
        found.add(send.submitted_by_id)
    return found | events.contributors(session, subject_of(send))


def submitted(
    session: Session,
    send: Send,
    bulletin: Bulletin,
    *,
    by: Writer,
    now: datetime,
    mailing: notices.Mailing,
) -> None:
    events.record(session, subject_of(send), action=SUBMITTED, by=by, now=now)
    authors = {a.user_id for a in approval.authors(session, bulletin) if a.user_id}
    notices.awaiting(session, mailing, _about(send), by=by, authors=authors, now=now)


def approved(
    session: Session,
    send: Send,
    *,
    by: Writer,
    now: datetime,
    mailing: notices.Mailing,
    told: set[int],
) -> None:
    events.record(
        session,
        subject_of(send),
        action=APPROVED,
        by=by,
        now=now,
        snapshot=snapshots.of_send(session, send),
    )
    notices.approved(session, mailing, _about(send), by=by, to=told, now=now)


def send_back(
    session: Session,
    send: Send,
    bulletin: Bulletin,
    *,
    by: User,
    comment: str,
    now: datetime,
    mailing: notices.Mailing,
) -> None:
    """Withdraw it to draft with the approver's comment. Raises requests.SendRefused."""
    if not by.can_approve:
        raise requests.SendRefused(
            f"{by.email} is {requests.a_role(by.role)}; only an approver or an admin can "
            "send it back."
        )
    if reason := comment_refusal(comment):
        raise requests.SendRefused(reason)
    comment = comment.strip()
    session.flush()
    session.refresh(send, with_for_update=True)
    if send.state != SEND_AWAITING_APPROVAL:
        raise requests.SendRefused(
            "Only a send awaiting approval can be sent back; this one is "
            f"{SEND_LABELS.get(send.state, send.state).lower()}."
        )
    told = writers(session, send, bulletin)
    requests.withdrawn(session, send, by=by, why=f"{by.email} sent it back with a comment")
    events.record(session, subject_of(send), action=SENT_BACK, by=by, now=now, comment=comment)
    audit.record(
        session,
        actions.REVIEW_SENT_BACK,
        actor=by,
        target_type="send",
        target_id=send.id,
        summary=f'Sent "{send.title}" back to draft: {comment[:200]}',
        detail={"comment": comment, "bulletin_id": bulletin.id},
    )
    notices.sent_back(session, mailing, _about(send), by=by, comment=comment, to=told, now=now)
