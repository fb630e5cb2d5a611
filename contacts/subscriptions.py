"""What a stakeholder does through the links in a message: leave, come back, choose lists.

Called by the public views now and by the delivery engine's bounce handling later;
callers own the transaction.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from contacts import suppression
from contacts.models import (
    ACTIVE,
    SUPPRESSED_UNSUBSCRIBED,
    UNSUBSCRIBED,
    Contact,
    ContactList,
    ListMembership,
    Suppression,
)
from mailer import audit
from mailer.audit import actions
from mailer.database import utcnow
from mailer.events import catalogue, emit

log = logging.getLogger(__name__)

STAKEHOLDER = "stakeholder (via their link)"
# How an unsubscribe came, when not through the person's own link.
VIA_MAILTO = "an email to the unsubscribe address"
VIA_COMPLAINT = "marked a message as spam"
VIA_PROVIDER = "the mail provider's unsubscribe link"


def unsubscribe(
    session: Session,
    contact: Contact,
    *,
    send_id: int | None,
    one_click: bool = False,
    via: str = "",
    actor_label: str = STAKEHOLDER,
) -> bool:
    """Stop all mail to the contact. Idempotent: False when nothing changed.

    ``via`` says how, when it was not the person's own link (the unsubscribe page, or
    ``one_click`` from their mail client): an email to the mailto: address, a spam
    complaint, a mail provider's own link; ``actor_label`` then names who acted."""
    if contact.status != ACTIVE:
        return False
    how = via or ("one-click (mail client)" if one_click else "unsubscribe page")
    contact.status = UNSUBSCRIBED
    contact.unsubscribed_at = utcnow()
    contact.unsubscribed_from_send = send_id
    suppression.suppress(
        session,
        email_key=contact.email_key,
        reason=SUPPRESSED_UNSUBSCRIBED,
        contact=contact,
        send_id=send_id,
        detail=how,
    )
    audit.record(
        session,
        actions.CONTACT_UNSUBSCRIBED,
        actor_label=actor_label,
        target_type="contact",
        target_id=contact.id,
        summary=f"Contact #{contact.id} unsubscribed"
        f"{f' from send #{send_id}' if send_id else ''}"
        f"{f' ({via})' if via else ' (one-click)' if one_click else ''}",
        detail={"send_id": send_id, "one_click": one_click, "via": how},
    )
    log.info("contact %s unsubscribed (send %s, one-click %s)", contact.id, send_id, one_click)
    emit.emit(
        session,
        catalogue.CONTACT_UNSUBSCRIBED,
        catalogue.unsubscribed(contact.id, contact.email, how),
        now=contact.unsubscribed_at,
    )
    return True


def resubscribe(session: Session, contact: Contact) -> bool:
    """Undo the contact's own unsubscribe (never a bounce, a complaint or an admin's
    suppression: while one of those holds the address, nothing changes)."""
    if contact.status != UNSUBSCRIBED:
        return False
    digest = suppression.address_hash(session, contact.email_key)
    held = session.scalar(select(Suppression.reason).where(Suppression.address_hash == digest))
    if held is not None and held != SUPPRESSED_UNSUBSCRIBED:
        log.info("contact %s asked to come back; still suppressed (%s)", contact.id, held)
        return False
    session.execute(
        delete(Suppression).where(
            Suppression.address_hash == digest, Suppression.reason == SUPPRESSED_UNSUBSCRIBED
        )
    )
    contact.status = ACTIVE
    contact.unsubscribed_at = None
    contact.unsubscribed_from_send = None
    audit.record(
        session,
        actions.CONTACT_RESUBSCRIBED,
        actor_label=STAKEHOLDER,
        target_type="contact",
        target_id=contact.id,
        summary=f"Contact #{contact.id} subscribed again",
    )
    return True


def choosable_lists(session: Session) -> list[ContactList]:
    return list(
        session.scalars(
            select(ContactList).where(ContactList.choosable.is_(True)).order_by(ContactList.name)
        )
    )


def member_list_ids(session: Session, contact: Contact) -> set[int]:
    return set(
        session.scalars(
            select(ListMembership.list_id).where(ListMembership.contact_id == contact.id)
        )
    )


def set_preferences(session: Session, contact: Contact, *, chosen: set[int]) -> tuple[int, int]:
    """Join and leave choosable lists so membership matches ``chosen``.

    Lists that are not choosable are never touched, whatever the form sent.
    Returns (joined, left).
    """
    choosable = {lst.id for lst in choosable_lists(session)}
    current = member_list_ids(session, contact) & choosable
    wanted = chosen & choosable
    for list_id in wanted - current:
        session.add(ListMembership(list_id=list_id, contact_id=contact.id, source="preferences"))
    left = current - wanted
    if left:
        session.execute(
            delete(ListMembership).where(
                ListMembership.contact_id == contact.id, ListMembership.list_id.in_(left)
            )
        )
    joined = len(wanted - current)
    if joined or left:
        audit.record(
            session,
            actions.CONTACT_PREFERENCES,
            actor_label=STAKEHOLDER,
            target_type="contact",
            target_id=contact.id,
            summary=f"Contact #{contact.id} joined {joined} and left {len(left)} list(s)",
            detail={"joined": sorted(wanted - current), "left": sorted(left)},
        )
    return joined, len(left)


def masked(email: str) -> str:
    """a•••@example.org: enough for its owner to recognise, little for anyone else."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"
