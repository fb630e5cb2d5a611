"""The suppression list by address, for another system (the API): is this address
suppressed (since when, why), suppress it, lift it.

The list holds keyed hashes only (``suppression``), so an address is found by hashing
it, and a suppression whose contact was erased can be named by its id but never shown
as an address. Suppressing a known contact's address is the admin's "suppress"
(``directory.suppress_contact``: the contact stops getting mail); lifting is the
admin's too (``directory.remove_suppression``: never an erasure's).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts import directory, suppression
from contacts.models import ACTIVE, SUPPRESSED_MANUAL, Contact, Suppression
from contacts.upserting import normalised_address
from mailer import audit
from mailer.audit import actions

log = logging.getLogger(__name__)

DETAIL_MAX = 500


@dataclass(frozen=True)
class Suppressing:
    entry: Suppression
    created: bool


def find(session: Session, email: str) -> Suppression | None:
    """The suppression holding this address, if any."""
    return _by_key(session, normalised_address(email).casefold())


def _by_key(session: Session, key: str) -> Suppression | None:
    digest = suppression.address_hash(session, key)
    return session.scalar(select(Suppression).where(Suppression.address_hash == digest))


def suppress(session: Session, email: str, *, detail: str, actor_label: str) -> Suppressing:
    """Never mail this address again (a known contact stops getting mail). An address
    already suppressed keeps its first reason."""
    key = normalised_address(email).casefold()
    existing = _by_key(session, key)
    if existing is not None:
        return Suppressing(existing, created=False)
    detail = detail.strip()[:DETAIL_MAX] or "suppressed through the API"
    contact = session.scalar(select(Contact).where(Contact.email_key == key))
    if contact is not None and contact.status == ACTIVE:
        directory.suppress_contact(session, contact, actor_label=actor_label, reason=detail)
    else:
        suppression.suppress(
            session, email_key=key, reason=SUPPRESSED_MANUAL, contact=contact, detail=detail
        )
        session.flush()
        audit.record(
            session,
            actions.SUPPRESSION_ADDED,
            actor_label=actor_label,
            target_type="contact" if contact else "suppression",
            target_id=contact.id if contact else None,
            summary=f"Suppressed contact #{contact.id}" if contact else "Suppressed an address",
        )
    session.flush()
    entry = _by_key(session, key)
    assert entry is not None  # just written
    log.info("suppression %s added by %s", entry.id, actor_label)
    return Suppressing(entry, created=True)


def lift(session: Session, entry: Suppression, *, actor_label: str) -> None:
    """Allow mail to the address again (refused for an erased address)."""
    directory.remove_suppression(session, entry, actor_label=actor_label)
    log.info("suppression %s lifted by %s", entry.id, actor_label)


def page_after(session: Session, *, after_id: int, limit: int) -> tuple[list[Suppression], bool]:
    """Up to ``limit`` suppressions with ids above ``after_id``, in id order, and
    whether more follow."""
    rows = list(
        session.scalars(
            select(Suppression)
            .where(Suppression.id > after_id)
            .order_by(Suppression.id)
            .limit(limit + 1)
        )
    )
    return rows[:limit], len(rows) > limit
