"""The one path every bounce takes, whether the relay refused a recipient during the
SMTP conversation or (later) a delivery status notification arrives afterwards."""

from __future__ import annotations

import logging
import re
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contacts import suppression
from contacts.models import ACTIVE, BOUNCED, SUPPRESSED_BOUNCED, Contact
from mailer.delivery.models import Delivery
from mailer.events import catalogue, emit

log = logging.getLogger(__name__)

# RFC 3463: 5.1.x is about the address itself (unknown user, bad domain, moved).
_ADDRESS_STATUS = re.compile(r"\b5\.1\.\d{1,3}\b")


def is_hard_bounce(code: int | None, reply: str) -> bool:
    """A permanent refusal of the address itself ("user unknown"), not of the message."""
    if code is not None and not 500 <= code < 600:
        return False
    return bool(_ADDRESS_STATUS.search(reply)) or (
        code in (550, 551, 553) and ("unknown" in reply.lower() or "no such" in reply.lower())
    )


def record_hard_bounce(
    session: Session,
    *,
    contact_id: int | None,
    send_id: int,
    reply: str,
    limit: int,
    now: datetime,
) -> bool:
    """Count a hard bounce of the contact (the delivery row is already marked); once
    ``limit`` are counted the contact is marked bounced and its address suppressed.
    Returns True when this bounce suppressed the address."""
    if contact_id is None:
        return False
    contact = session.get(Contact, contact_id)
    if contact is None or contact.status != ACTIVE:
        return False
    bounces = session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.contact_id == contact_id, Delivery.hard_bounce.is_(True))
    )
    if (bounces or 0) < limit:
        return False
    suppress_bounced(session, contact, send_id=send_id, detail=reply)
    data = catalogue.bounced(contact.id, contact.email, send_id, "hard", reply[:300])
    emit.emit(session, catalogue.DELIVERY_BOUNCED, data, now=now)
    log.info("contact %s suppressed after %d hard bounces (send %s)", contact_id, bounces, send_id)
    return True


def suppress_bounced(
    session: Session, contact: Contact, *, send_id: int | None, detail: str
) -> None:
    """Mark the contact bounced and suppress its address, with the server's words as
    the suppression's detail (the first reason recorded for an address stays)."""
    contact.status = BOUNCED
    suppression.suppress(
        session,
        email_key=contact.email_key,
        reason=SUPPRESSED_BOUNCED,
        contact=contact,
        send_id=send_id,
        detail=detail[:500],
    )
