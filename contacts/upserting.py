"""Adding or changing one contact from another system (the API): found by its address
(an upsert: added when new, changed when known) or by its id, changing only the
fields given.

The rules are those of the admin's contact form (``directory.save_contact``: the
address as email-validator normalises it, one contact per address, a known
organisation type, a lawful basis, never adding a suppressed address) and of the
import (organisation types matched by name the way a CSV's are, tags within the
import's limit, and a contact who left is never subscribed again: their details may
change, their status and lists do not). What was kept that way is said in ``kept``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts import directory, suppression
from contacts.directory import DirectoryError
from contacts.importing.rows import MAX_FIELD_LENGTHS
from contacts.models import (
    ACTIVE,
    DEFAULT_LAWFUL_BASIS,
    LAWFUL_BASES,
    SOURCE_API,
    Contact,
    ContactList,
    OrganisationType,
)
from contacts.values import normalise_tags, type_key

log = logging.getLogger(__name__)


class FieldProblem(DirectoryError):
    """One given field cannot be used; ``field`` names it as the caller sent it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Suppressed(DirectoryError):
    """The address is on the suppression list: it is not added again."""


@dataclass(frozen=True)
class ContactChanges:
    """What a caller gives; None leaves a field as it is (or empty, for a new contact).
    ``organisation_type`` is a type's id or name, "" for none; ``lists`` are list ids
    the contact joins (lists it is already on are left alone)."""

    email: str | None = None
    name: str | None = None
    organisation: str | None = None
    organisation_type: int | str | None = None
    role: str | None = None
    area: str | None = None
    tags: list[str] | None = None
    lawful_basis: str | None = None
    lists: list[int] | None = None


@dataclass(frozen=True)
class Saved:
    contact: Contact
    created: bool
    # What was asked for and kept as it was, each in a sentence (a status, lists).
    kept: list[str] = field(default_factory=list)


def normalised_address(email: str) -> str:
    """The address as the product stores it (email-validator's normal form)."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise FieldProblem("email", f"Not a valid email address: {exc}") from None


def find(session: Session, email: str) -> Contact | None:
    """The contact with this address, compared as the product compares addresses."""
    key = normalised_address(email).casefold()
    return session.scalar(select(Contact).where(Contact.email_key == key))


def upsert(session: Session, changes: ContactChanges, *, actor_label: str) -> Saved:
    """Add the contact with ``changes.email``, or change the one with that address."""
    if changes.email is None:
        raise FieldProblem("email", "Give the contact's email address.")
    address = normalised_address(changes.email)
    key = address.casefold()
    contact = session.scalar(select(Contact).where(Contact.email_key == key))
    if contact is None and suppression.is_suppressed(session, key):
        raise Suppressed(
            f"{address} is on the suppression list (it unsubscribed, bounced, complained "
            "or was erased) and is not added again."
        )
    return _save(session, contact, address, changes, actor_label)


def update(
    session: Session, contact: Contact, changes: ContactChanges, *, actor_label: str
) -> Saved:
    """Change the fields given of a known contact (its address too)."""
    address = contact.email
    if changes.email is not None:
        address = normalised_address(changes.email)
        key = address.casefold()
        if key != contact.email_key and suppression.is_suppressed(session, key):
            raise Suppressed(
                f"{address} is on the suppression list; a contact cannot take that address."
            )
    return _save(session, contact, address, changes, actor_label)


def _save(
    session: Session,
    contact: Contact | None,
    address: str,
    changes: ContactChanges,
    actor_label: str,
) -> Saved:
    created = contact is None
    lawful_basis = changes.lawful_basis or (
        contact.lawful_basis if contact else DEFAULT_LAWFUL_BASIS
    )
    if lawful_basis not in LAWFUL_BASES:
        raise FieldProblem("lawful_basis", f"One of: {', '.join(LAWFUL_BASES)}.")
    tags = ";".join(changes.tags) if changes.tags is not None else (contact.tags if contact else "")
    if len(normalise_tags(tags)) > MAX_FIELD_LENGTHS["tags"]:
        raise FieldProblem(
            "tags", f"Too many tags: at most {MAX_FIELD_LENGTHS['tags']} characters in all."
        )
    lists = _lists(session, changes.lists or [])

    def given(value: str | None, current: str) -> str:
        return value if value is not None else current

    saved = directory.save_contact(
        session,
        contact,
        email=address,
        name=given(changes.name, contact.name if contact else ""),
        organisation=given(changes.organisation, contact.organisation if contact else ""),
        organisation_type_id=_type_id(session, changes.organisation_type, contact),
        role=given(changes.role, contact.role if contact else ""),
        area=given(changes.area, contact.area if contact else ""),
        tags=tags,
        lawful_basis=lawful_basis,
        actor_label=actor_label,
        source=SOURCE_API,
    )
    kept: list[str] = []
    if saved.status != ACTIVE:
        kept.append(
            f"status: still {saved.status}; a change made here never subscribes an address again"
        )
        if lists:
            kept.append(f"lists: not joined while the contact is {saved.status}")
    else:
        for lst in lists:
            directory.add_members(
                session, lst, contact_ids=[saved.id], actor_label=actor_label, source=SOURCE_API
            )
    log.info("contact %s %s by %s", saved.id, "added" if created else "saved", actor_label)
    return Saved(saved, created, kept)


def _type_id(session: Session, wanted: int | str | None, contact: Contact | None) -> int | None:
    """The organisation type given by id or by name ("" for none); unknown is refused,
    never made here (the import asks a person before it makes one)."""
    if wanted is None:
        return contact.organisation_type_id if contact else None
    if isinstance(wanted, int):
        if session.get(OrganisationType, wanted) is None:
            raise FieldProblem("organisation_type", f"There is no organisation type {wanted}.")
        return wanted
    if not wanted.strip():
        return None
    key = type_key(wanted)
    for type_id, name in session.execute(select(OrganisationType.id, OrganisationType.name)):
        if type_key(name) == key:
            return int(type_id)
    raise FieldProblem(
        "organisation_type",
        f"There is no organisation type called {wanted.strip()!r} "
        "(see /api/v1/organisation-types; add it there first).",
    )


def _lists(session: Session, list_ids: list[int]) -> list[ContactList]:
    wanted = list(dict.fromkeys(list_ids))
    if not wanted:
        return []
    found = {
        lst.id: lst
        for lst in session.scalars(select(ContactList).where(ContactList.id.in_(wanted)))
    }
    missing = [str(i) for i in wanted if i not in found]
    if missing:
        raise FieldProblem("lists", f"No list with the id {', '.join(missing)}.")
    return [found[i] for i in wanted]
