"""The managed list of organisation types: add, rename, reorder, remove.

Types are matched by name on import (case-insensitively, curly apostrophes as straight),
so a rename changes what a CSV must say, and two types may not differ only in case.
Removing a type moves the contacts that had it to another type or to none: a contact is
never deleted with its type.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from contacts.models import Contact, OrganisationType
from contacts.values import clean_text, type_key
from mailer import audit
from mailer.accounts.models import User
from mailer.audit import actions
from mailer.database import rows_changed

NAME_MAX = 120
UP = "up"
DOWN = "down"


class OrganisationTypeError(Exception):
    """A change that cannot be made; the message says why, for the person who asked."""


class TypeExists(OrganisationTypeError):
    """Another type already has that name (or one differing only in case)."""


def with_counts(session: Session) -> list[tuple[OrganisationType, int]]:
    """Every type, in display order, with how many contacts have it."""
    counts = (
        select(Contact.organisation_type_id, func.count().label("n"))
        .where(Contact.organisation_type_id.is_not(None))
        .group_by(Contact.organisation_type_id)
        .subquery()
    )
    rows = session.execute(
        select(OrganisationType, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.organisation_type_id == OrganisationType.id)
        .order_by(OrganisationType.position, OrganisationType.name)
    )
    return [(kind, count) for kind, count in rows]


def _checked_name(session: Session, name: str, *, ignore_id: int | None = None) -> str:
    name = clean_text(name)
    if not name:
        raise OrganisationTypeError("Give the organisation type a name.")
    if len(name) > NAME_MAX:
        raise OrganisationTypeError(f"A name can be at most {NAME_MAX} characters.")
    key = type_key(name)
    for other_id, other in session.execute(select(OrganisationType.id, OrganisationType.name)):
        if other_id != ignore_id and type_key(other) == key:
            raise TypeExists(f"There is already an organisation type {other!r}.")
    return name


def add(
    session: Session, *, name: str, by: User | None = None, actor_label: str | None = None
) -> OrganisationType:
    name = _checked_name(session, name)
    last = session.scalar(select(func.max(OrganisationType.position))) or 0
    kind = OrganisationType(name=name, position=last + 1)
    session.add(kind)
    session.flush()
    audit.record(
        session,
        actions.ORGANISATION_TYPE_ADDED,
        actor=by,
        actor_label=actor_label,
        target_type="organisation_type",
        target_id=kind.id,
        summary=f"Added organisation type {name!r}",
    )
    return kind


def rename(session: Session, kind: OrganisationType, *, name: str, by: User) -> None:
    name = _checked_name(session, name, ignore_id=kind.id)
    if name == kind.name:
        return
    old = kind.name
    kind.name = name
    audit.record(
        session,
        actions.ORGANISATION_TYPE_RENAMED,
        actor=by,
        target_type="organisation_type",
        target_id=kind.id,
        summary=f"Renamed organisation type {old!r} to {name!r}",
    )


def move(session: Session, kind: OrganisationType, *, direction: str, by: User) -> bool:
    """Swap a type with its neighbour above or below; False at either end."""
    if direction not in (UP, DOWN):
        return False
    ordered = list(
        session.scalars(
            select(OrganisationType).order_by(OrganisationType.position, OrganisationType.name)
        )
    )
    # Renumber first: seeded and added types may share positions.
    for position, each in enumerate(ordered):
        each.position = position
    index = ordered.index(kind)
    other = index - 1 if direction == UP else index + 1
    if not 0 <= other < len(ordered):
        return False
    ordered[index].position, ordered[other].position = other, index
    audit.record(
        session,
        actions.ORGANISATION_TYPE_MOVED,
        actor=by,
        target_type="organisation_type",
        target_id=kind.id,
        summary=f"Moved organisation type {kind.name!r} {direction}",
    )
    return True


def remove(
    session: Session, kind: OrganisationType, *, move_to_id: int | None, by: User
) -> tuple[int, OrganisationType | None]:
    """Delete a type, giving its contacts the type ``move_to_id`` (or none).
    Returns how many contacts moved, and the type they moved to."""
    move_to = session.get(OrganisationType, move_to_id) if move_to_id else None
    if move_to_id and move_to is None:
        raise OrganisationTypeError(
            "The type to move the contacts to no longer exists; choose again."
        )
    if move_to is not None and move_to.id == kind.id:
        raise OrganisationTypeError("Choose a different type to move its contacts to.")
    moved = rows_changed(
        session,
        update(Contact)
        .where(Contact.organisation_type_id == kind.id)
        .values(organisation_type_id=move_to.id if move_to else None)
        .execution_options(synchronize_session=False),
    )
    name = kind.name
    session.delete(kind)
    audit.record(
        session,
        actions.ORGANISATION_TYPE_REMOVED,
        actor=by,
        target_type="organisation_type",
        target_id=kind.id,
        summary=(
            f"Removed organisation type {name!r}; {moved} contact(s) moved to "
            + (repr(move_to.name) if move_to else "no type")
        ),
    )
    return moved, move_to
