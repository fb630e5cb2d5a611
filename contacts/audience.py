"""Who is in an audience: the contacts a send (or a consultation's timeline) reaches.

An audience is how a comms team thinks of who a message is for: anyone on any of these
lists or of any of these organisation types; then, if tags are given, only those with at
least one of them; if areas are given, only those in one of them; then minus the
members of the excluded lists. A send stores it as JSON (:meth:`Audience.to_json`);
sends and consultations stored before tags, areas and exclusions existed hold only
``lists`` and ``organisation_types`` and mean what they meant.

Status (unsubscribed, bounced) and suppression are returned, not filtered: the caller
decides what they mean (``mailer.delivery.sends.make_due`` leaves them out).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, exists, false, func, literal, or_, select
from sqlalchemy.orm import Session

from contacts.models import (
    ACTIVE,
    BOUNCED,
    ERASED,
    UNSUBSCRIBED,
    Contact,
    ContactList,
    ListMembership,
    OrganisationType,
    Suppression,
)
from contacts.values import type_key


def _ids(values: Iterable[Any] | None) -> tuple[int, ...]:
    return tuple(sorted({int(v) for v in values or ()}))


def _words(values: Iterable[Any] | None) -> tuple[str, ...]:
    """Tags and areas as typed, trimmed, without repeats (compared case-insensitively)."""
    seen: dict[str, str] = {}
    for value in values or ():
        text = str(value).strip()
        if text and text.casefold() not in seen:
            seen[text.casefold()] = text
    return tuple(sorted(seen.values(), key=str.casefold))


@dataclass(frozen=True)
class Audience:
    lists: tuple[int, ...] = ()
    organisation_types: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    exclude_lists: tuple[int, ...] = ()

    @classmethod
    def of(
        cls,
        *,
        lists: Iterable[Any] = (),
        organisation_types: Iterable[Any] = (),
        tags: Iterable[Any] = (),
        areas: Iterable[Any] = (),
        exclude_lists: Iterable[Any] = (),
    ) -> Audience:
        """Normalised: ids sorted without repeats, tags and areas trimmed."""
        return cls(
            lists=_ids(lists),
            organisation_types=_ids(organisation_types),
            tags=_words(tags),
            areas=_words(areas),
            exclude_lists=_ids(exclude_lists),
        )

    @classmethod
    def from_json(cls, data: dict[str, Any] | Audience | None) -> Audience:
        if isinstance(data, Audience):
            return data
        data = data or {}
        return cls.of(
            lists=data.get("lists") or (),
            organisation_types=data.get("organisation_types") or (),
            tags=data.get("tags") or (),
            areas=data.get("areas") or (),
            exclude_lists=data.get("exclude_lists") or (),
        )

    def to_json(self) -> dict[str, Any]:
        """Only the keys in use beyond the first two, so an audience of lists and types
        is stored (and hashed for approval) exactly as it always was."""
        data: dict[str, Any] = {
            "lists": list(self.lists),
            "organisation_types": list(self.organisation_types),
        }
        if self.tags:
            data["tags"] = list(self.tags)
        if self.areas:
            data["areas"] = list(self.areas)
        if self.exclude_lists:
            data["exclude_lists"] = list(self.exclude_lists)
        return data

    @property
    def empty(self) -> bool:
        """No list and no type: nobody, whatever the narrowing."""
        return not self.lists and not self.organisation_types


def tag_condition(tags: Iterable[str]) -> Any:
    """SQL: the contact has at least one of ``tags`` (whole tags, any case). Tags are
    stored ";"-separated, so the stored text is wrapped in separators and searched."""
    wrapped = literal(";") + func.lower(Contact.tags) + literal(";")
    return or_(*(wrapped.contains(f";{tag.casefold()};", autoescape=True) for tag in tags))


def area_condition(areas: Iterable[str]) -> Any:
    """SQL: the contact's area is one of ``areas`` (any case, surrounding spaces aside)."""
    return func.lower(func.trim(Contact.area)).in_([a.casefold() for a in areas])


def audience_contacts(
    session: Session,
    audience: dict[str, Any] | Audience,
    *,
    ids: tuple[int, int] | None = None,
) -> Any:
    """A SELECT of (id, email, email_key, status) for every contact in the audience,
    in id order (callers page through it by id). ``ids`` (low, high] keeps to that
    window of contact ids, in the list memberships read too: a send falling due walks
    a million contacts a window at a time, each window costing its own size."""
    del session  # the query is built, not run: the caller runs it
    found = Audience.from_json(audience)
    query = select(Contact.id, Contact.email, Contact.email_key, Contact.status)
    if found.empty:
        return query.where(false())

    def members(list_ids: tuple[int, ...]) -> Any:
        chosen = select(ListMembership.contact_id).where(ListMembership.list_id.in_(list_ids))
        if ids is not None:
            chosen = chosen.where(
                ListMembership.contact_id > ids[0], ListMembership.contact_id <= ids[1]
            )
        return chosen

    either = []
    if found.lists:
        either.append(Contact.id.in_(members(found.lists)))
    if found.organisation_types:
        either.append(Contact.organisation_type_id.in_(found.organisation_types))
    query = query.where(or_(*either))
    if ids is not None:
        query = query.where(Contact.id > ids[0], Contact.id <= ids[1])
    if found.tags:
        query = query.where(tag_condition(found.tags))
    if found.areas:
        query = query.where(area_condition(found.areas))
    if found.exclude_lists:
        query = query.where(~Contact.id.in_(members(found.exclude_lists)))
    return query.order_by(Contact.id)


class AudienceRefused(Exception):
    """The audience names something the office does not have, or nobody; the message
    says what, as a person reads it."""


SUPPRESSED = "suppressed"
# Why someone in an audience is not sent to, in the order a page lists them.
LEFT_OUT_REASONS = (UNSUBSCRIBED, BOUNCED, ERASED, SUPPRESSED)


@dataclass(frozen=True)
class AudienceSummary:
    """What the send page shows as an audience is built: how many it reaches, how many
    of those are left out and why, and a few names to recognise."""

    total: int  # contacts in the audience, whatever their status
    reachable: int  # of them, those a send would go to now
    left_out: dict[str, int]  # why -> how many ("unsubscribed", "bounced", "suppressed")
    sample: tuple[str, ...]  # a few of the reachable, "Name (Organisation)" or the address

    @property
    def left_out_total(self) -> int:
        return sum(self.left_out.values())


def _members(session: Session, audience: Audience) -> Any:
    """The audience's contact ids, as a subquery for ``IN``."""
    return audience_contacts(session, audience).with_only_columns(Contact.id).order_by(None)


def _suppressed_ids() -> Any:
    # A manual suppression names its contact; make_due checks every address by its
    # hash as well, so this is what the office can see now, not a promise.
    return select(Suppression.contact_id).where(Suppression.contact_id.is_not(None))


def _status_counts(session: Session, audience: Audience) -> tuple[dict[str, int], int]:
    """Contacts by status, and the active ones whose address is suppressed, in one
    pass over the audience."""
    found = audience_contacts(session, audience).order_by(None).subquery()
    suppressed = and_(found.c.status == ACTIVE, found.c.id.in_(_suppressed_ids()))
    counts: dict[str, int] = {}
    active_suppressed = 0
    for status, count, blocked in session.execute(
        select(found.c.status, func.count(), func.count().filter(suppressed)).group_by(
            found.c.status
        )
    ).all():
        counts[status] = count
        active_suppressed += blocked or 0
    return counts, active_suppressed


# An audience up to this size is summed up from its rows in one pass over the
# contacts; a larger one takes a second pass that counts in the database.
SUMMED_IN_ONE_PASS = 5000


def summarise(session: Session, audience: Audience, *, sample: int = 8) -> AudienceSummary:
    """Counts by status, suppressed addresses among the active, and a sample of names."""
    if audience.empty:
        return AudienceSummary(total=0, reachable=0, left_out={}, sample=())
    blocked = case((Contact.id.in_(_suppressed_ids()), 1), else_=0).label("blocked")
    rows = session.execute(
        audience_contacts(session, audience)
        .with_only_columns(Contact.id, Contact.status, blocked)
        .limit(SUMMED_IN_ONE_PASS + 1)
    ).all()
    if len(rows) <= SUMMED_IN_ONE_PASS:
        counts = dict(Counter(row.status for row in rows))
        suppressed = sum(1 for row in rows if row.status == ACTIVE and row.blocked)
    else:
        counts, suppressed = _status_counts(session, audience)
    total = sum(counts.values())
    found = {status: n for status, n in counts.items() if status != ACTIVE and n}
    if suppressed:
        found[SUPPRESSED] = suppressed
    # Known reasons first, in their order; any other status after them.
    left_out = {why: found.pop(why) for why in LEFT_OUT_REASONS if why in found}
    left_out.update(sorted(found.items()))
    # The sample: the first reachable rows, in id order (the rows read above are).
    first = [row.id for row in rows if row.status == ACTIVE and not row.blocked][:sample]
    names: list[str] = []
    if first:
        for name, organisation, email in session.execute(
            select(Contact.name, Contact.organisation, Contact.email)
            .where(Contact.id.in_(first))
            .order_by(Contact.id)
        ):
            shown = name or email
            names.append(f"{shown} ({organisation})" if organisation else shown)
    active = counts.get(ACTIVE, 0)
    return AudienceSummary(
        total=total, reachable=max(active - suppressed, 0), left_out=left_out, sample=tuple(names)
    )


def count_reachable(session: Session, audience: Audience) -> int:
    """Only how many a send would go to now: the plain count (a list of segments, the
    command line), without the reasons or the sample."""
    if audience.empty:
        return 0
    query = (
        audience_contacts(session, audience)
        .with_only_columns(func.count())
        .order_by(None)
        .where(Contact.status == ACTIVE, ~Contact.id.in_(_suppressed_ids()))
    )
    return session.scalar(query) or 0


# The builder's pickers read the tags and areas of this many of the newest contacts:
# gathering every distinct value of a million contacts read the whole table on every
# page load. New values arrive with new contacts (an import, a sign-up); an older,
# rarer one can still be typed, and the count says whether anyone has it.
KNOWN_SCAN = 50_000


def _distinct(session: Session, column: Any, newest: int | None) -> list[str]:
    source = select(column.label("value")).where(column != "")
    if newest:
        source = source.order_by(Contact.id.desc()).limit(newest)
    found = source.subquery()
    return list(session.scalars(select(found.c.value).distinct()))


def known_is_complete(session: Session, *, newest: int | None = KNOWN_SCAN) -> bool:
    """Whether ``known_tags`` and ``known_areas`` read every contact (there are no more
    than ``newest``): one step along the primary key, not a count."""
    if not newest:
        return True
    beyond = select(Contact.id).order_by(Contact.id.desc()).offset(newest).limit(1)
    return session.scalar(beyond) is None


def known_tags(session: Session, *, newest: int | None = KNOWN_SCAN) -> list[str]:
    """The tags contacts have, as first written, in alphabetical order: of the newest
    ``newest`` contacts (None: of all of them)."""
    seen: dict[str, str] = {}
    for tags in _distinct(session, Contact.tags, newest):
        for tag in tags.split(";"):
            if tag and tag.casefold() not in seen:
                seen[tag.casefold()] = tag
    return sorted(seen.values(), key=str.casefold)


def known_areas(session: Session, *, newest: int | None = KNOWN_SCAN) -> list[str]:
    """The areas contacts are in, in alphabetical order: of the newest ``newest``
    contacts (None: of all of them)."""
    seen: dict[str, str] = {}
    for area in _distinct(session, Contact.area, newest):
        key = area.strip().casefold()
        if key and key not in seen:
            seen[key] = area.strip()
    return sorted(seen.values(), key=str.casefold)


def resolve(
    session: Session,
    *,
    lists: Iterable[str] = (),
    organisation_types: Iterable[str] = (),
    tags: Iterable[str] = (),
    areas: Iterable[str] = (),
    exclude_lists: Iterable[str] = (),
) -> Audience:
    """An audience from the names a person types (the command line): list names,
    organisation type names, tags and areas. Refuses, naming it, anything unknown."""

    list_ids = {row.name.casefold(): row.id for row in session.scalars(select(ContactList))}
    kinds = session.scalars(select(OrganisationType).order_by(OrganisationType.position)).all()
    # A type by its name as the admin shows it (any case) or by its code, the number the
    # Organisation types page shows for the command line (it survives a rename).
    type_ids = {type_key(row.name): row.id for row in kinds} | {str(k.id): k.id for k in kinds}
    known_types = ", ".join(f'"{k.name}" ({k.id})' for k in kinds) or "none yet"

    def ids(
        names: Iterable[str], table: dict[str, int], what: str, key: Any, known: str = ""
    ) -> list[int]:
        found = []
        for name in names:
            if key(name) not in table:
                also = f" The {what}s are: {known}." if known else ""
                raise AudienceRefused(f'There is no {what} called "{name}".{also}')
            found.append(table[key(name)])
        return found

    tag_names = _words(tags)
    for tag in tag_names:
        # Stops at the first contact who has it, instead of gathering every tag string.
        if not session.scalar(select(exists().where(tag_condition([tag])))):
            raise AudienceRefused(f'No contact has the tag "{tag}".')
    area_names = _words(areas)
    for area in area_names:
        if not session.scalar(select(exists().where(area_condition([area])))):
            raise AudienceRefused(f'No contact is in the area "{area}".')
    return Audience.of(
        lists=ids(lists, list_ids, "list", lambda n: n.strip().casefold()),
        organisation_types=ids(
            organisation_types, type_ids, "organisation type", type_key, known_types
        ),
        tags=tag_names,
        areas=area_names,
        exclude_lists=ids(exclude_lists, list_ids, "list", lambda n: n.strip().casefold()),
    )


@dataclass(frozen=True)
class AudienceNames:
    """The names of the lists and organisation types some audiences use, read once, so
    a page describing many audiences asks the database twice, not twice per row."""

    lists: dict[int, str]
    types: dict[int, str]

    @classmethod
    def load(
        cls, session: Session, audiences: Iterable[dict[str, Any] | Audience | None]
    ) -> AudienceNames:
        found = [Audience.from_json(a) for a in audiences]
        list_ids = {i for a in found for i in (*a.lists, *a.exclude_lists)}
        type_ids = {i for a in found for i in a.organisation_types}
        lists: dict[int, str] = {}
        types: dict[int, str] = {}
        if list_ids:
            lists = dict(
                session.execute(
                    select(ContactList.id, ContactList.name).where(ContactList.id.in_(list_ids))
                ).all()
            )
        if type_ids:
            types = dict(
                session.execute(
                    select(OrganisationType.id, OrganisationType.name).where(
                        OrganisationType.id.in_(type_ids)
                    )
                ).all()
            )
        return cls(lists=lists, types=types)

    def describe(self, audience: dict[str, Any] | Audience | None) -> str:
        """In words, as a person reads it: "Lists: Partners, Press; types: Council;
        tags: youth; areas: North; leaving out: Panel"."""
        found = Audience.from_json(audience)
        if found.empty:
            return "Nobody yet (no list or organisation type chosen)"
        parts = []
        if found.lists:
            parts.append("lists: " + ", ".join(self._list(i) for i in found.lists))
        if found.organisation_types:
            named = (self.types.get(i, "a deleted type") for i in found.organisation_types)
            parts.append("types: " + ", ".join(named))
        if found.tags:
            parts.append("tags: " + ", ".join(found.tags))
        if found.areas:
            parts.append("areas: " + ", ".join(found.areas))
        if found.exclude_lists:
            parts.append("leaving out: " + ", ".join(self._list(i) for i in found.exclude_lists))
        text = "; ".join(parts)
        return text[0].upper() + text[1:]

    def _list(self, list_id: int) -> str:
        return self.lists.get(list_id, "a deleted list")


def describe(session: Session, audience: dict[str, Any] | Audience | None) -> str:
    """An audience in words (``AudienceNames.describe``)."""
    return AudienceNames.load(session, [audience]).describe(audience)
