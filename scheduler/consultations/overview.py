"""Consultations at a glance: the list's next send, the calendar's month, and the
timeline as a picture."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer import humane_time
from mailer.delivery.models import SEND_SCHEDULED, Send
from scheduler.models import Consultation


def next_send(session: Session, consultation: Consultation) -> Send | None:
    """The first of its sends waiting to go."""
    return session.scalar(
        select(Send)
        .where(Send.consultation_id == consultation.id, Send.state == SEND_SCHEDULED)
        .order_by(Send.due_at)
        .limit(1)
    )


def month(
    session: Session, first: date, last: date, *, zone: tzinfo
) -> tuple[list[Consultation], dict[date, list[dict[str, Any]]]]:
    """The consultations open some time from ``first`` to ``last`` (local days), and
    each day's events: a send due, a consultation opening or closing."""
    start = datetime.combine(first, time(0), zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), zone).astimezone(UTC)
    events: dict[date, list[dict[str, Any]]] = {}
    for send in session.scalars(
        select(Send)
        .where(Send.consultation_id.is_not(None), Send.due_at >= start, Send.due_at < end)
        .order_by(Send.due_at)
    ):
        if send.due_at is not None:  # always, by the query; said for the type checker
            day = send.due_at.astimezone(zone).date()
            events.setdefault(day, []).append({"send": send, "label": send.label})
    shown = session.scalars(
        select(Consultation)
        .where(Consultation.opens_at < end, Consultation.closes_at >= start)
        .order_by(Consultation.opens_at)
    ).all()
    for item in shown:
        for moment, what in ((item.opens_at, "opens"), (item.closes_at, "closes")):
            day = moment.astimezone(zone).date()
            if first <= day <= last:
                events.setdefault(day, []).append({"consultation": item, "label": what})
    return list(shown), events


def picture(
    consultation: Consultation, stored: list[Send], *, now: datetime, zone: tzinfo
) -> dict[str, Any]:
    """Positions (0-100 %) on a time axis for the timeline picture."""
    moments = [consultation.opens_at, consultation.closes_at] + [
        s.due_at for s in stored if s.due_at is not None
    ]
    start, end = min(moments), max(moments)
    margin = max((end - start) * 0.04, timedelta(hours=1))
    start, end = start - margin, end + margin
    span = (end - start).total_seconds()

    def at(moment: datetime) -> float:
        return round(100 * (moment - start).total_seconds() / span, 2)

    return {
        "open_from": at(consultation.opens_at),
        "open_to": at(consultation.closes_at),
        "now": at(now) if start <= now <= end else None,
        "marks": [
            {
                "x": at(s.due_at),
                "kind": s.kind,
                "label": s.label,
                "state": s.state,
                "when": _said(s.due_at, zone),
                "row": n % 2,
            }
            for n, s in enumerate(stored)
            if s.due_at is not None
        ],
        "opens": _said(consultation.opens_at, zone),
        "closes": _said(consultation.closes_at, zone),
    }


def _said(moment: datetime, zone: tzinfo) -> str:
    """A time on the timeline picture: "Tuesday 1 December, 3:20am" (its year is the
    consultation's, said above it)."""
    return f"{humane_time.short_day(moment, zone)}, {humane_time.clock(moment, zone)}"
