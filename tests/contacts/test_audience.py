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


def test_tags_areas_and_excluded_lists_narrow_the_audience(db: Database) -> None:
    from contacts.audience import Audience, AudienceRefused, resolve, summarise

    with db.transaction() as session:
        a, b, panel = ContactList(name="A"), ContactList(name="B"), ContactList(name="Panel")
        session.add_all([a, b, panel])
        session.flush()
        people = {}
        for name, lists, tags, area in (
            ("ann", [a], "Youth;Rural", "North"),
            ("bob", [b], "rural", " north "),
            ("cat", [a, panel], "youth", "North"),
            ("dan", [b], "urban", "North"),
            ("eve", [a], "youth", "South"),
            ("fay", [], "youth", "North"),
            ("gus", [a], "youthful", "North"),
        ):
            contact = Contact(
                email=f"{name}@example.org", email_key=f"{name}@example.org", tags=tags, area=area
            )
            session.add(contact)
            session.flush()
            for chosen in lists:
                session.add(ListMembership(list_id=chosen.id, contact_id=contact.id))
            people[name] = contact.id
        ids = (a.id, b.id, panel.id)
    audience = Audience.of(
        lists=[ids[0], ids[1]], tags=["YOUTH", "rural"], areas=["north"], exclude_lists=[ids[2]]
    )
    with db.reading() as session:
        found = [r.id for r in session.execute(audience_contacts(session, audience))]
        summary = summarise(session, audience)
        typed = resolve(
            session,
            lists=["a", "B"],
            tags=["youth", "Rural"],
            areas=["North"],
            exclude_lists=["Panel"],
        )
        by_typed = [r.id for r in session.execute(audience_contacts(session, typed))]
        try:
            resolve(session, lists=["Nobody's list"])
        except AudienceRefused as exc:
            refused = str(exc)
    # Whole tags only ("youthful" is not "youth"), any case; area trimmed, any case.
    assert found == [people["ann"], people["bob"]]
    assert summary.reachable == 2 and summary.total == 2
    assert by_typed == found and typed.exclude_lists == (ids[2],)
    assert refused == 'There is no list called "Nobody\'s list".'
    assert Audience.from_json(audience.to_json()) == audience
    assert Audience.of(lists=[2, 1, 2]).to_json() == {"lists": [1, 2], "organisation_types": []}
