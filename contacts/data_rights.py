"""Data rights: a contact's own data as JSON, and erasure.

Erasure removes the person's data from every table and leaves only the keyed hash of
the address on the suppression list, so a later import cannot bring it back. Parts of
the product that store copies of an address elsewhere (stored SMTP replies, outbox
files, pending uploads) each offer a scrubber; the caller passes them all to
:func:`erase` (``mailer.personal_data.erasure_scrubbers`` builds the list from the
configuration, so erasure reaches them in a request and on the command line alike).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts import suppression
from contacts.models import SUPPRESSED_ERASED, Contact, Suppression
from mailer import audit
from mailer.accounts.models import User
from mailer.audit import actions
from mailer.audit.models import AuditEntry
from mailer.database import utcnow
from mailer.events import catalogue, emit

log = logging.getLogger(__name__)

# scrubber(session, contact_id, email) removes every stored copy of the address.
Scrubber = Callable[[Session, int, str], None]
# The key under which the app keeps the scrubbers it was built with (app.extensions;
# mailer.personal_data builds them).
ERASURE_SCRUBBERS = "mailer.erasure_scrubbers"


def contact_data(session: Session, contact: Contact) -> dict[str, Any]:
    """Everything held about one contact, for a subject access request."""
    digest = suppression.address_hash(session, contact.email_key)
    suppressed = session.scalar(select(Suppression).where(Suppression.address_hash == digest))
    history = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.target_type == "contact", AuditEntry.target_id == str(contact.id))
        .order_by(AuditEntry.id)
    )
    return {
        "email": contact.email,
        "name": contact.name,
        "organisation": contact.organisation,
        "organisation_type": contact.organisation_type.name if contact.organisation_type else None,
        "role": contact.role,
        "area": contact.area,
        "tags": contact.tag_list,
        "status": contact.status,
        "source": contact.source,
        "lawful_basis": contact.lawful_basis,
        "lawful_basis_recorded_at": contact.lawful_basis_recorded_at.isoformat(),
        "unsubscribed_at": contact.unsubscribed_at.isoformat() if contact.unsubscribed_at else None,
        "created_at": contact.created_at.isoformat(),
        "updated_at": contact.updated_at.isoformat(),
        "lists": [
            {"name": m.list.name, "joined_at": m.joined_at.isoformat(), "how": m.source}
            for m in contact.memberships
        ],
        "suppressed": {"reason": suppressed.reason, "since": suppressed.created_at.isoformat()}
        if suppressed
        else None,
        "history": [
            {"at": e.at.isoformat(), "what": e.action, "summary": e.summary} for e in history
        ],
    }


def erase(
    session: Session,
    contact: Contact,
    *,
    by: User | None = None,
    actor_label: str | None = None,
    scrubbers: Sequence[Scrubber],
    ip: str | None = None,
) -> None:
    """Remove the contact everywhere; keep only the keyed hash, suppressed as erased.
    ``scrubbers`` remove the copies of the address kept outside the contact's rows."""
    contact_id, email, key = contact.id, contact.email, contact.email_key
    digest = suppression.address_hash(session, key)
    entry = session.scalar(select(Suppression).where(Suppression.address_hash == digest))
    if entry is None:
        session.add(
            Suppression(address_hash=digest, reason=SUPPRESSED_ERASED, detail="erased on request")
        )
    else:
        entry.reason, entry.detail, entry.contact = SUPPRESSED_ERASED, "erased on request", None
    for scrubber in scrubbers:
        scrubber(session, contact_id, email)
    session.delete(contact)
    session.flush()
    # Deliberately without the address: the log must not undo the erasure.
    audit.record(
        session,
        actions.CONTACT_ERASED,
        actor=by,
        actor_label=actor_label,
        target_type="contact",
        target_id=contact_id,
        summary=f"Erased contact #{contact_id}",
        ip=ip,
    )
    log.info("contact %s erased by %s", contact_id, actor_label or f"user {by.id if by else '?'}")
    emit.emit(session, catalogue.CONTACT_ERASED, {"contact_id": contact_id}, now=utcnow())
