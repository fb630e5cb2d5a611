"""Telling webhook endpoints that a consultation opened or closed, once each.

A consultation opens and closes by the clock, not by a write (its ``phase``), so the
active scheduler's tick looks for those that crossed a line since it last looked and
marks them told (``opened_told_at``, ``closed_told_at``) in the same transaction as the
event. One that crossed it more than ``STALE`` ago (before an upgrade that brought
webhooks, or while no scheduler ran) is marked told without an event: endpoints are
told what is happening, not flooded with history.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.events import catalogue, emit
from scheduler.models import CLOSED, OPEN, SCHEDULED, Consultation

log = logging.getLogger(__name__)

STALE = timedelta(days=1)
_LIVE = (SCHEDULED, OPEN, CLOSED)


def _data(consultation: Consultation) -> dict[str, Any]:
    return {
        "consultation_id": consultation.id,
        "title": consultation.title,
        "slug": consultation.slug,
        "opens_at": consultation.opens_at.isoformat().replace("+00:00", "Z"),
        "closes_at": consultation.closes_at.isoformat().replace("+00:00", "Z"),
    }


def tell(session: Session, *, now: datetime) -> int:
    """Emit the openings and closings since the last tick; how many events."""
    told = 0
    opening = select(Consultation).where(
        Consultation.state.in_(_LIVE),
        Consultation.opened_told_at.is_(None),
        Consultation.opens_at <= now,
    )
    for consultation in session.scalars(opening):
        consultation.opened_told_at = now
        if now - consultation.opens_at <= STALE:
            emit.emit(session, catalogue.CONSULTATION_OPENED, _data(consultation), now=now)
            told += 1
    closing = select(Consultation).where(
        Consultation.state.in_(_LIVE),
        Consultation.closed_told_at.is_(None),
        Consultation.closes_at <= now,
    )
    for consultation in session.scalars(closing):
        consultation.closed_told_at = now
        if now - consultation.closes_at <= STALE:
            emit.emit(session, catalogue.CONSULTATION_CLOSED, _data(consultation), now=now)
            told += 1
    if told:
        log.info("consultations: %d opening or closing event(s) told", told)
    return told
