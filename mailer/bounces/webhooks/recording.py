"""Acting on a verified webhook request: its receipt, then each report through the one
path (``processing.record``), all in the caller's transaction, so a request is either
wholly recorded with its receipt or not at all (and its provider may send it again)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts import subscriptions
from contacts.models import Contact
from mailer.bounces import processing
from mailer.bounces.webhooks import receipts
from mailer.bounces.webhooks.common import Unsubscribe, Verified
from mailer.delivery.models import Delivery

log = logging.getLogger(__name__)


@dataclass
class Summary:
    """What one request did: answered to the provider, and logged."""

    recorded: int = 0
    repeated: int = 0
    unmatched: int = 0
    suppressed: int = 0
    unsubscribed: int = 0
    ignored: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "recorded": self.recorded,
            "repeated": self.repeated,
            "unmatched": self.unmatched,
            "suppressed": self.suppressed,
            "unsubscribed": self.unsubscribed,
            "ignored": self.ignored,
        }

    def describe(self) -> str:
        return ", ".join(f"{count} {name}" for name, count in self.as_dict().items() if count) or (
            "nothing to do"
        )


def apply(
    session: Session,
    verified: Verified,
    *,
    provider: str,
    limits: processing.Limits,
    now: datetime,
    tolerance: timedelta,
) -> Summary:
    """Claim the request's receipt (409 if it is a replay), then act on what it says."""
    receipts.claim(
        session, provider=provider, key=verified.receipt_key, now=now, tolerance=tolerance
    )
    summary = Summary(ignored=verified.ignored)
    for report in verified.reports:
        outcome = processing.record(session, report, limits=limits, now=now)
        summary.recorded += outcome.recorded
        summary.repeated += outcome.repeated
        summary.unmatched += outcome.unmatched
        summary.suppressed += outcome.suppressed
        summary.unsubscribed += outcome.unsubscribed
        if outcome.ignored:
            summary.ignored += 1
    for request in verified.unsubscribes:
        if unsubscribe(session, request, provider=provider):
            summary.unsubscribed += 1
        else:
            summary.repeated += 1
    return summary


def unsubscribe(session: Session, request: Unsubscribe, *, provider: str) -> bool:
    """Unsubscribe the person a provider's own unsubscribe link was for: the contact of
    the delivery the Message-ID names, else the contact holding the (signed) address.
    False when nothing changed (already unsubscribed, or nobody holds the address)."""
    delivery = (
        session.scalar(select(Delivery).where(Delivery.message_id == request.message_id).limit(1))
        if request.message_id
        else None
    )
    contact: Contact | None = None
    if delivery is not None and delivery.contact_id:
        contact = session.get(Contact, delivery.contact_id)
    if contact is None:
        contact = session.scalar(
            select(Contact).where(Contact.email_key == request.address.strip().casefold())
        )
    if contact is None:
        log.info("%s unsubscribe for an address no contact holds: nothing changed", provider)
        return False
    send_id = delivery.send_id if delivery is not None else None
    changed = subscriptions.unsubscribe(
        session,
        contact,
        send_id=send_id,
        via=subscriptions.VIA_PROVIDER,
        actor_label=f"{provider} (signed webhook)",
    )
    log.info(
        "%s unsubscribe of contact %s (send %s): %s",
        provider,
        contact.id,
        send_id,
        "unsubscribed" if changed else "already not active",
    )
    return changed
