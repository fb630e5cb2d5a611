"""Who is in an audience: anyone on one of its lists or of one of its types, narrowed
by tags and areas, minus the excluded lists; and who of them a send would reach."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from contacts import suppression
from contacts.audience import (
    Audience,
    AudienceRefused,
    audience_contacts,
    count_reachable,
    describe,
    known_areas,
    known_is_complete,
    known_tags,
    resolve,
    summarise,
)
from contacts.models import (
    BOUNCED,
    ERASED,
    SUPPRESSED_MANUAL,
    UNSUBSCRIBED,
    Contact,
    ContactList,
    ListMembership,
    OrganisationType,
    Suppression,
)
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


@dataclass(frozen=True)
class Town:
    """Eleven people on three lists, each one a rule of the audience."""

    people: dict[str, int]
    a: int
    b: int
    panel: int

    def audience(self, **changes: object) -> Audience:
        chosen: dict[str, object] = {
            "lists": [self.a, self.b],
            "tags": ["YOUTH", "rural"],
            "areas": ["north"],
            "exclude_lists": [self.panel],
        }
        chosen.update(changes)
        return Audience.of(**chosen)  # type: ignore[arg-type]


def town(db: Database) -> Town:
    """ann and bob are reached; hal, ivy, jon and kim are in the audience but left out
    (unsubscribed, bounced, erased, suppressed); the others are not in it at all."""
    with db.transaction() as session:
        a, b, panel = ContactList(name="A"), ContactList(name="B"), ContactList(name="Panel")
        session.add_all([a, b, panel])
        session.flush()
        people = {}
        for name, lists, tags, area, status in (
            ("ann", [a], "Youth;Rural", "North", None),
            ("bob", [b], "rural", " north ", None),
            ("cat", [a, panel], "youth", "North", None),  # on an excluded list
            ("dan", [b], "urban", "North", None),  # no tag asked for
            ("eve", [a], "youth", "South", None),  # another area
            ("fay", [], "youth", "North", None),  # on no list
            ("gus", [a], "youthful", "North", None),  # a tag that only starts the same
            ("hal", [a], "youth", "North", UNSUBSCRIBED),
            ("ivy", [b], "youth", "North", BOUNCED),
            ("jon", [a], "youth", "North", ERASED),
            ("kim", [a], "youth", "North", None),  # suppressed below
        ):
            contact = Contact(
                email=f"{name}@example.org",
                email_key=f"{name}@example.org",
                name=name.title(),
                organisation="Northshire Council" if name == "ann" else "",
                tags=tags,
                area=area,
            )
            if status:
                contact.status = status
            session.add(contact)
            session.flush()
            for chosen in lists:
                session.add(ListMembership(list_id=chosen.id, contact_id=contact.id))
            people[name] = contact.id
        session.add(
            Suppression(
                address_hash=suppression.address_hash(session, "kim@example.org"),
                reason=SUPPRESSED_MANUAL,
                contact_id=people["kim"],
            )
        )
        return Town(people, a.id, b.id, panel.id)


def test_tags_areas_and_excluded_lists_narrow_the_audience(db: Database) -> None:
    place = town(db)
    p = place.people
    audience = place.audience()
    with db.reading() as session:
        found = [r.id for r in session.execute(audience_contacts(session, audience))]
        no_tags = [
            r.id for r in session.execute(audience_contacts(session, place.audience(tags=[])))
        ]
        no_exclusion = [
            r.id
            for r in session.execute(audience_contacts(session, place.audience(exclude_lists=[])))
        ]
    # Whole tags only ("youthful" is not "youth"), any case; area trimmed, any case.
    assert found == [p[n] for n in ("ann", "bob", "hal", "ivy", "jon", "kim")]
    assert no_tags == [p[n] for n in ("ann", "bob", "dan", "gus", "hal", "ivy", "jon", "kim")]
    assert no_exclusion == [p[n] for n in ("ann", "bob", "cat", "hal", "ivy", "jon", "kim")]
    assert Audience.from_json(audience.to_json()) == audience
    assert Audience.of(lists=[2, 1, 2]).to_json() == {"lists": [1, 2], "organisation_types": []}


def test_the_summary_says_who_is_left_out_and_why(db: Database) -> None:
    place = town(db)
    with db.reading() as session:
        summary = summarise(session, place.audience())
        plain = count_reachable(session, place.audience())
        nobody = summarise(session, Audience.of(tags=["youth"]))
    assert summary.total == 6
    assert summary.reachable == plain == 2
    # The known reasons in their order, each counted once.
    assert list(summary.left_out.items()) == [
        ("unsubscribed", 1),
        ("bounced", 1),
        ("erased", 1),
        ("suppressed", 1),
    ]
    assert summary.left_out_total == 4
    # The sample shows only people a send would reach.
    assert summary.sample == ("Ann (Northshire Council)", "Bob")
    # Tags without a list or a type reach nobody.
    assert (nobody.total, nobody.reachable, nobody.left_out) == (0, 0, {})


def test_a_suppressed_active_contact_is_counted_as_left_out(db: Database) -> None:
    place = town(db)
    with db.reading() as session:
        only_kim = place.audience(tags=[], areas=[], lists=[place.a])
        summary = summarise(session, only_kim)
    # A: ann, cat (excluded via Panel), eve, gus, hal, jon, kim.
    assert summary.total == 6
    assert summary.left_out == {"unsubscribed": 1, "erased": 1, "suppressed": 1}
    assert summary.reachable == 3
    assert "Kim" not in summary.sample


def test_types_join_lists_and_narrowing_applies_to_both(db: Database) -> None:
    place = town(db)
    with db.transaction() as session:
        police = OrganisationType(name="Police force")
        session.add(police)
        session.flush()
        fay = session.get_one(Contact, place.people["fay"])
        fay.organisation_type_id = police.id
        police_id = police.id
    with db.reading() as session:
        summary = summarise(session, place.audience(organisation_types=[police_id]))
    # fay is on no list but of the type, has the tag and the area: she is in it now.
    assert summary.reachable == 3
    assert "Fay" in summary.sample


def test_resolve_reads_names_and_refuses_what_does_not_exist(db: Database) -> None:
    place = town(db)
    with db.reading() as session:
        typed = resolve(
            session, lists=["a", "B"], tags=["youth", "Rural"], areas=["North"],
            exclude_lists=["Panel"],
        )  # fmt: skip
        by_typed = [r.id for r in session.execute(audience_contacts(session, typed))]
        by_ids = [r.id for r in session.execute(audience_contacts(session, place.audience()))]
        refusals = {}
        for key, kwargs in {
            "list": {"lists": ["Nobody's list"]},
            "type": {"organisation_types": ["Space agency"]},
            "tag": {"lists": ["A"], "tags": ["youth", "astronauts"]},
            "area": {"lists": ["A"], "areas": ["Mars"]},
            "excluded": {"lists": ["A"], "exclude_lists": ["Ghosts"]},
        }.items():
            with pytest.raises(AudienceRefused) as refused:
                resolve(session, **kwargs)  # type: ignore[arg-type]
            refusals[key] = str(refused.value)
    # As typed, the same people as the ids chosen in the builder.
    assert (typed.lists, typed.exclude_lists) == ((place.a, place.b), (place.panel,))
    assert [t.casefold() for t in typed.tags] == ["rural", "youth"]
    assert by_typed == by_ids
    # An unknown type lists the known ones, each with its code for the command line.
    unknown_type = refusals.pop("type")
    assert unknown_type.startswith(
        'There is no organisation type called "Space agency". The organisation types are: '
    )
    assert '"Member of the public" (' in unknown_type
    assert refusals == {
        "list": 'There is no list called "Nobody\'s list".',
        "tag": 'No contact has the tag "astronauts".',
        "area": 'No contact is in the area "Mars".',
        "excluded": 'There is no list called "Ghosts".',
    }


def test_a_type_is_typed_by_its_name_in_any_case_or_by_its_code(db: Database) -> None:
    with db.transaction() as session:
        police = OrganisationType(name="Police force")
        session.add(police)
        session.flush()
        police_id = police.id
    with db.reading() as session:
        by_name = resolve(session, organisation_types=["  POLICE FORCE "])
        by_code = resolve(session, organisation_types=[str(police_id)])
        with pytest.raises(AudienceRefused, match='"Police force" \\(' + str(police_id)):
            resolve(session, organisation_types=["police"])
    assert list(by_name.organisation_types) == list(by_code.organisation_types) == [police_id]


def test_known_tags_and_areas_and_the_audience_in_words(db: Database) -> None:
    place = town(db)
    with db.reading() as session:
        tags = known_tags(session)
        areas = known_areas(session)
        words = describe(session, place.audience())
        nothing = describe(session, Audience())
    # Each once, whatever case it was written in, in alphabetical order.
    assert [t.casefold() for t in tags] == ["rural", "urban", "youth", "youthful"]
    assert [a.casefold() for a in areas] == ["north", "south"]
    assert words == "Lists: A, B; tags: rural, YOUTH; areas: north; leaving out: Panel"
    assert nothing.startswith("Nobody yet")


def test_the_pickers_read_only_the_newest_contacts(db: Database) -> None:
    town(db)
    with db.reading() as session:
        # The two newest: jon (youth, North) and kim (youth, North).
        newest = (known_tags(session, newest=2), known_areas(session, newest=2))
        partial = known_is_complete(session, newest=2)
        everyone = known_is_complete(session, newest=11)
        all_tags = known_tags(session, newest=None)
    assert [[v.casefold() for v in found] for found in newest] == [["youth"], ["north"]]
    assert (partial, everyone) == (False, True)
    assert len(all_tags) == 4


def test_a_large_audience_is_summed_up_the_same_way(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    place = town(db)
    with db.reading() as session:
        small = summarise(session, place.audience())
        monkeypatch.setattr("contacts.audience.SUMMED_IN_ONE_PASS", 2)
        large = summarise(session, place.audience())
    assert large == small
