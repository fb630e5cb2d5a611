"""Contacts on lists, with organisation types, for consultation tests."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select

from contacts.models import Contact, ContactList, ListMembership, OrganisationType
from mailer.database import Database


def make_list(
    db: Database,
    people: Sequence[tuple[str, str | None]],
    *,
    name: str | None = None,
) -> int:
    """A list holding ``(address, organisation type name or None)``; returns its id."""
    with db.transaction() as session:
        found = (
            session.scalar(select(ContactList).where(ContactList.name == name)) if name else None
        )
        partners = found or ContactList(name=name or f"Partners {uuid.uuid4().hex[:8]}")
        session.add(partners)
        types = dict(session.execute(select(OrganisationType.name, OrganisationType.id)).all())
        for number, (address, type_name) in enumerate(people):
            contact = Contact(
                email=address,
                email_key=address.casefold(),
                name=f"Person {number}",
                organisation="Northshire partner",
                organisation_type_id=types[type_name] if type_name else None,
            )
            session.add(contact)
            session.add(ListMembership(list=partners, contact=contact))
        session.flush()
        return partners.id
