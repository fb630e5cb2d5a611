"""Late joiners: people who joined a consultation's audience after its launch went.

The scheduler sends them the launch (``runner._add_late_joiners``), but only at a moment
the sending rules allow: someone who joins at 11pm waits for the end of the quiet hours.
Nothing is recorded while they wait (no delivery row exists until the launch is made
due for them), so this module works out who is waiting, when they will get it and why
not sooner, for the contact's page and the send's page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session

from contacts.audience import audience_contacts
from contacts.models import Contact
from mailer.delivery.models import SEND_DONE, SEND_SENDING, Delivery, Send
from scheduler.models import SCHEDULED, Consultation
from scheduler.rules import Rules
from scheduler.timeline import LAUNCH


@dataclass(frozen=True)
class Waiting:
    """A launch that people who joined after it went have not had yet."""

    send_id: int
    title: str
    goes_at: datetime
    why: str  # why not now, in words; "" when nothing holds it (it goes within minutes)
    people: int = 1


def open_launches(now: datetime) -> Select[Send]:
    """The launches that late joiners still get: gone out, of an approved consultation
    that is open now and asks for late joiners."""
    return (
        select(Send)
        .join(Consultation, Consultation.id == Send.consultation_id)
        .where(
            Send.slot == LAUNCH,
            Send.state.in_((SEND_SENDING, SEND_DONE)),
            Consultation.state == SCHEDULED,
            Consultation.late_joiners.is_(True),
            Consultation.opens_at <= now,
            Consultation.closes_at > now,
        )
        .order_by(Send.id)
    )


def next_go(rules: Rules, now: datetime) -> tuple[datetime, str]:
    """When late joiners next get their launch, and why not sooner ("" when now)."""
    return rules.later(now).at, rules.why_not(now) or ""


def waiting_for(session: Session, contact_id: int, *, rules: Rules, now: datetime) -> list[Waiting]:
    """The launches this contact is in the audience of but has not been sent yet."""
    found: list[Waiting] = []
    goes_at, why = next_go(rules, now)
    for send in session.scalars(open_launches(now)):
        in_audience = audience_contacts(session, send.audience, ids=(contact_id - 1, contact_id))
        if session.execute(in_audience.limit(1)).first() is None:
            continue
        has_row = exists().where(Delivery.send_id == send.id, Delivery.contact_id == contact_id)
        if session.scalar(select(has_row)):
            continue
        found.append(Waiting(send.id, send.title, goes_at, why))
    return found


def waiting_on(session: Session, send: Send, *, rules: Rules, now: datetime) -> Waiting | None:
    """How many joined the audience of this launch after it went and wait for it, or
    None when nobody does (or it is not a launch late joiners get)."""
    if session.scalar(open_launches(now).where(Send.id == send.id)) is None:
        return None
    missing = audience_contacts(session, send.audience).where(
        ~exists().where(Delivery.send_id == send.id, Delivery.contact_id == Contact.id)
    )
    count = session.scalar(select(func.count()).select_from(missing.subquery())) or 0
    if not count:
        return None
    goes_at, why = next_go(rules, now)
    return Waiting(send.id, send.title, goes_at, why, people=count)
