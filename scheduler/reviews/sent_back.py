"""What was sent back and is still to be answered, where the writer works: a
bulletin's edit page (its send sent back, with the comment), the bulletins list (a
note beside each such bulletin) and the dashboard (what was sent back to them).

A send-back is open while the send or consultation is still a draft and the last step
of its review is the send-back (events.open_send_back). Read-only."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.bulletins.models import Bulletin
from mailer.delivery.models import SEND_DRAFT, Send
from scheduler.models import DRAFT, Consultation
from scheduler.reviews import consultation_reviews, events, send_reviews


@dataclass(frozen=True)
class SentBack:
    """One open send-back: what it is about, who sent it back, when, and why."""

    title: str
    by: str
    at: datetime
    comment: str
    consultation_id: int | None = None
    bulletin_id: int | None = None
    send_id: int | None = None


def _draft_sends(session: Session, bulletin_ids: Collection[int] | None) -> list[Send]:
    query = select(Send).where(Send.state == SEND_DRAFT, Send.consultation_id.is_(None))
    if bulletin_ids is not None:
        if not bulletin_ids:
            return []
        query = query.where(Send.bulletin_id.in_(list(bulletin_ids)))
    return list(session.scalars(query.order_by(Send.id)))


def _of_send(session: Session, send: Send) -> SentBack | None:
    step = events.open_send_back(session, send_reviews.subject_of(send))
    if step is None:
        return None
    return SentBack(
        title=send.title,
        by=step.by,
        at=step.at,
        comment=step.comment,
        bulletin_id=send.bulletin_id,
        send_id=send.id,
    )


def of_bulletins(session: Session, bulletin_ids: Collection[int]) -> dict[int, SentBack]:
    """Each bulletin's open send-back (its latest, when it has several drafts)."""
    found: dict[int, SentBack] = {}
    for send in _draft_sends(session, bulletin_ids):
        if (said := _of_send(session, send)) is not None and send.bulletin_id is not None:
            found[send.bulletin_id] = said
    return found


def of_bulletin(session: Session, bulletin_id: int) -> SentBack | None:
    return of_bulletins(session, [bulletin_id]).get(bulletin_id)


def waiting_for(session: Session, *, user_id: int) -> list[SentBack]:
    """What was sent back to the user ``user_id`` (they wrote or submitted it) and waits for them,
    newest first."""
    found: list[SentBack] = []
    for send in _draft_sends(session, None):
        bulletin = session.get(Bulletin, send.bulletin_id) if send.bulletin_id else None
        said = _of_send(session, send)
        if (
            said is not None
            and bulletin is not None
            and user_id in send_reviews.writers(session, send, bulletin)
        ):
            found.append(said)
    for consultation in session.scalars(select(Consultation).where(Consultation.state == DRAFT)):
        subject = consultation_reviews.subject_of(consultation)
        step = events.open_send_back(session, subject)
        if step is not None and user_id in consultation_reviews.writers(session, consultation):
            found.append(
                SentBack(
                    title=consultation.title,
                    by=step.by,
                    at=step.at,
                    comment=step.comment,
                    consultation_id=consultation.id,
                )
            )
    return sorted(found, key=lambda s: s.at, reverse=True)
