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

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import false, func, literal, or_, select
from sqlalchemy.orm import Session

from contacts.models import Contact, ListMembership


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


def audience_contacts(session: Session, audience: dict[str, Any] | Audience) -> Any:
    """A SELECT of (id, email, email_key, status) for every contact in the audience,
    in id order (callers page through it by id)."""
    del session  # the query is built, not run: the caller runs it
    found = Audience.from_json(audience)
    query = select(Contact.id, Contact.email, Contact.email_key, Contact.status)
    if found.empty:
        return query.where(false())
    either = []
    if found.lists:
        either.append(
            Contact.id.in_(
                select(ListMembership.contact_id).where(ListMembership.list_id.in_(found.lists))
            )
        )
    if found.organisation_types:
        either.append(Contact.organisation_type_id.in_(found.organisation_types))
    query = query.where(or_(*either))
    if found.tags:
        query = query.where(tag_condition(found.tags))
    if found.areas:
        query = query.where(area_condition(found.areas))
    if found.exclude_lists:
        query = query.where(
            ~Contact.id.in_(
                select(ListMembership.contact_id).where(
                    ListMembership.list_id.in_(found.exclude_lists)
                )
            )
        )
    return query.order_by(Contact.id)
