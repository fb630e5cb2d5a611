"""Who is in an audience: the contacts a send (or a consultation's timeline) reaches.

An audience is the JSON a send stores: ``{"lists": [ids], "organisation_types": [ids]}``.
A contact is in it when they are on any of the lists or of any of the types. Status
(unsubscribed, bounced) is returned, not filtered: the caller decides what it means.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import false, or_, select
from sqlalchemy.orm import Session

from contacts.models import Contact, ListMembership


def audience_contacts(session: Session, audience: dict[str, Any]) -> Any:
    """A SELECT of (id, email, email_key, status) for every contact in the audience."""
    lists = audience.get("lists") or []
    types = audience.get("organisation_types") or []
    conditions = []
    if lists:
        conditions.append(
            Contact.id.in_(
                select(ListMembership.contact_id).where(ListMembership.list_id.in_(lists))
            )
        )
    if types:
        conditions.append(Contact.organisation_type_id.in_(types))
    query = select(Contact.id, Contact.email, Contact.email_key, Contact.status)
    if not conditions:
        return query.where(false())
    return query.where(or_(*conditions)).order_by(Contact.id)
