"""Who is in an audience: anyone on one of its lists or of one of its types."""

from __future__ import annotations

from contacts.audience import audience_contacts
from contacts.models import UNSUBSCRIBED, Contact, ContactList, ListMembership, OrganisationType
from mailer.database import Database


def _people(db: Database) -> dict[str, int]:
    with db.transaction() as session:
        partners = ContactList(name="Partners")
        council = OrganisationType(name="Council")
        session.add_all([partners, council])
        session.flush()
        people = {}
        for name, on_list, of_type, status in (
            ("ann", True, False, None),
            ("bob", False, True, UNSUBSCRIBED),
            ("cat", True, True, None),
            ("dan", False, False, None),
        ):
            contact = Contact(
                email=f"{name}@example.org",
                email_key=f"{name}@example.org",
                organisation_type_id=council.id if of_type else None,
            )
            if status:
                contact.status = status
            session.add(contact)
            session.flush()
            if on_list:
                session.add(ListMembership(list_id=partners.id, contact_id=contact.id))
            people[name] = contact.id
        people["list"], people["type"] = partners.id, council.id
    return people


def test_an_audience_is_its_lists_and_types_together(db: Database) -> None:
    ids = _people(db)
    with db.reading() as session:
        rows = session.execute(
            audience_contacts(
                session, {"lists": [ids["list"]], "organisation_types": [ids["type"]]}
            )
        ).all()
        only_list = session.execute(audience_contacts(session, {"lists": [ids["list"]]})).all()
        nobody = session.execute(audience_contacts(session, {})).all()
    # Each contact once, in id order, with the status left for the caller to judge.
    assert [r.id for r in rows] == [ids["ann"], ids["bob"], ids["cat"]]
    assert {r.email: r.status for r in rows}["bob@example.org"] == UNSUBSCRIBED
    assert [r.id for r in only_list] == [ids["ann"], ids["cat"]]
    assert nobody == []
