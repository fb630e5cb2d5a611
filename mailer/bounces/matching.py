"""Which delivery, send and contact a report is about: the signed token of the bounce
address first (``mailer.delivery.verp``), then the Message-ID the report quotes; a
provider's signed event (``Report.trusted``) also by the address alone."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts.models import Contact
from mailer.bounces.reports import Failure, Report
from mailer.delivery import verp
from mailer.delivery.models import BOUNCED, FAILED, SENT, Delivery, Send

log = logging.getLogger(__name__)


def by_token(
    session: Session, report: Report, *, bounce_address: str, keys: Sequence[str]
) -> tuple[verp.Token | None, Delivery | None]:
    """The bounce token the report came to, when it is ours, and its delivery (None
    when retention has deleted the row since)."""
    token = report.verp_token
    if not token and bounce_address:
        token = verp.token_in(report.recipients, bounce_address)
    if not token or not keys:
        return None, None
    read = verp.read_token(token, keys=keys)
    if read is None or read.purpose != verp.BOUNCE:
        log.warning("bounce token %r is not one of ours", token[:50])
        return None, None
    found = session.get(Delivery, read.delivery_id)
    if found is not None and read.send_id is not None and found.send_id != read.send_id:
        # Signed by us, but the row is another send's now (a database restored or
        # started afresh with the same key): not the message that bounced.
        log.warning("bounce token %r names delivery %s of another send", token, found.id)
        return None, None
    return read, found


def summarised_send(session: Session, token: verp.Token | None) -> Send | None:
    """The send a signed token names when its delivery rows are gone: retention kept
    only its counts (``Send.summary``)."""
    if token is None or token.send_id is None:
        return None
    send = session.get(Send, token.send_id)
    return send if send is not None and send.summary else None


def by_message_id(session: Session, report: Report, failure: Failure) -> Delivery | None:
    if report.message_id:
        found = session.scalar(
            select(Delivery).where(Delivery.message_id == report.message_id).limit(1)
        )
        if found is not None:
            return found
    if report.trusted and failure.address:
        # A signed provider event without our Message-ID: the address's latest message.
        return session.scalar(
            select(Delivery)
            .join(Contact, Contact.id == Delivery.contact_id)
            .where(
                Contact.email_key == failure.address.strip().casefold(),
                Delivery.state.in_((SENT, BOUNCED, FAILED)),
            )
            .order_by(Delivery.id.desc())
            .limit(1)
        )
    return None


def contact_for(
    session: Session, delivery: Delivery | None, failure: Failure, *, trusted: bool
) -> Contact | None:
    if delivery is not None:
        return session.get(Contact, delivery.contact_id) if delivery.contact_id else None
    if trusted and failure.address:
        return session.scalar(
            select(Contact).where(Contact.email_key == failure.address.strip().casefold())
        )
    return None
