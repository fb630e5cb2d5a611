"""Finding and managing contacts, lists and suppressions for the admin pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.orm import Session

from contacts import suppression
from contacts.models import (
    ACTIVE,
    LAWFUL_BASES,
    SOURCE_MANUAL,
    STATUSES,
    SUPPRESSED_ERASED,
    SUPPRESSED_MANUAL,
    Contact,
    ContactList,
    ListMembership,
    OrganisationType,
    Suppression,
)
from contacts.values import clean_text, list_name_problem, normalise_tags
from mailer import audit, paging
from mailer.accounts.models import User
from mailer.audit import actions
from mailer.database import rows_changed

PER_PAGE = 50


class DirectoryError(Exception):
    """A change that cannot be made; the message says why, for the person who asked."""


class AlreadyExists(DirectoryError):
    """The change would make a second contact or list with the same address or name."""


class NotLiftable(DirectoryError):
    """A suppression that stays: an erased address must never come back."""


@dataclass(frozen=True)
class ContactFilter:
    q: str = ""
    list_id: int | None = None
    organisation_type_id: int | None = None
    status: str | None = None
    tag: str = ""
    # The API's filters: one address (its case-folded key), one area (as the audience
    # compares areas: trimmed, case-folded), changed at or after a time.
    email_key: str | None = None
    area: str = ""
    updated_since: datetime | None = None

    def apply(self, query: Select) -> Select:
        if self.q:
            # Escape LIKE wildcards so a search for "50%" means exactly that.
            term = _like_escaped(self.q.strip().casefold())
            pattern = f"%{term}%"
            query = query.where(
                or_(
                    Contact.email_key.like(pattern, escape="\\"),
                    func.lower(Contact.name).like(pattern, escape="\\"),
                    func.lower(Contact.organisation).like(pattern, escape="\\"),
                )
            )
        if self.list_id:
            query = query.where(
                Contact.id.in_(
                    select(ListMembership.contact_id).where(ListMembership.list_id == self.list_id)
                )
            )
        if self.organisation_type_id:
            query = query.where(Contact.organisation_type_id == self.organisation_type_id)
        if self.status in STATUSES:
            query = query.where(Contact.status == self.status)
        if self.tag:
            wrapped = func.lower(";" + Contact.tags + ";")
            query = query.where(
                wrapped.like(f"%;{_like_escaped(self.tag.strip().casefold())};%", escape="\\")
            )
        if self.email_key is not None:
            query = query.where(Contact.email_key == self.email_key)
        if self.area.strip():
            query = query.where(func.lower(func.trim(Contact.area)) == self.area.strip().casefold())
        if self.updated_since is not None:
            query = query.where(Contact.updated_at >= self.updated_since)
        return query


def _like_escaped(term: str) -> str:
    """A LIKE pattern's literal part: "50%" means exactly that."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass
class Page:
    items: list[Contact]
    total: int
    page: int
    per_page: int = PER_PAGE
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        self.pages = max(1, -(-self.total // self.per_page))


def search(
    session: Session, filters: ContactFilter, *, page: int = 1, per_page: int = PER_PAGE
) -> Page:
    query = filters.apply(select(Contact))
    total = session.scalar(filters.apply(select(func.count(Contact.id)))) or 0
    page = paging.within(page, total, per_page)
    items = list(
        session.scalars(
            query.order_by(Contact.email_key).offset((page - 1) * per_page).limit(per_page)
        )
    )
    return Page(items, total, page, per_page)


def contacts_after(
    session: Session, filters: ContactFilter, *, after_id: int, limit: int
) -> tuple[list[Contact], bool]:
    """Up to ``limit`` contacts with ids above ``after_id``, in id order, and whether
    more follow: a page that new contacts never shift (the API's cursor paging)."""
    rows = list(
        session.scalars(
            filters.apply(select(Contact))
            .where(Contact.id > after_id)
            .order_by(Contact.id)
            .limit(limit + 1)
        )
    )
    return rows[:limit], len(rows) > limit


def organisation_types(session: Session) -> list[OrganisationType]:
    return list(
        session.scalars(
            select(OrganisationType).order_by(OrganisationType.position, OrganisationType.name)
        )
    )


def lists_with_counts(session: Session) -> list[tuple[ContactList, int, int]]:
    """Each list with its member count and its active member count."""
    members = (
        select(
            ListMembership.list_id,
            func.count().label("members"),
            func.count().filter(Contact.status == ACTIVE).label("active"),
        )
        .join(Contact, Contact.id == ListMembership.contact_id)
        .group_by(ListMembership.list_id)
        .subquery()
    )
    rows = session.execute(
        select(ContactList, func.coalesce(members.c.members, 0), func.coalesce(members.c.active, 0))
        .outerjoin(members, members.c.list_id == ContactList.id)
        .order_by(ContactList.name)
    )
    return [(lst, total, active) for lst, total, active in rows]


def create_list(
    session: Session,
    *,
    name: str,
    description: str,
    choosable: bool,
    by: User | None = None,
    actor_label: str | None = None,
) -> ContactList:
    name = clean_text(name)
    problem = list_name_problem(name)
    if problem:
        raise DirectoryError(problem[0].upper() + problem[1:] + ".")
    if session.scalar(select(ContactList).where(func.lower(ContactList.name) == name.lower())):
        raise AlreadyExists(f"There is already a list called {name!r}.")
    lst = ContactList(name=name, description=description.strip()[:2000], choosable=choosable)
    session.add(lst)
    session.flush()
    audit.record(
        session,
        actions.LIST_CREATED,
        actor=by,
        actor_label=actor_label,
        target_type="list",
        target_id=lst.id,
        summary=f"Created list {name!r}",
    )
    return lst


def update_list(
    session: Session,
    lst: ContactList,
    *,
    name: str | None = None,
    description: str | None = None,
    choosable: bool | None = None,
    by: User | None = None,
    actor_label: str | None = None,
) -> list[str]:
    """Change what is given of a list's name, description and choosability; what
    changed, in words ("name, description"), empty when nothing did."""
    changed: list[str] = []
    if name is not None:
        name = clean_text(name)
        problem = list_name_problem(name)
        if problem:
            raise DirectoryError(problem[0].upper() + problem[1:] + ".")
        clash = session.scalar(
            select(ContactList).where(
                func.lower(ContactList.name) == name.lower(), ContactList.id != lst.id
            )
        )
        if clash is not None:
            raise AlreadyExists(f"There is already a list called {name!r}.")
        if name != lst.name:
            lst.name = name
            changed.append("name")
    if description is not None and description.strip()[:2000] != lst.description:
        lst.description = description.strip()[:2000]
        changed.append("description")
    if choosable is not None and choosable != lst.choosable:
        lst.choosable = choosable
        changed.append("choosable")
    if changed:
        audit.record(
            session,
            actions.LIST_CHANGED,
            actor=by,
            actor_label=actor_label,
            target_type="list",
            target_id=lst.id,
            summary=f"Changed list {lst.name!r}: {', '.join(changed)}",
        )
    return changed


def add_members(
    session: Session,
    lst: ContactList,
    *,
    contact_ids: list[int],
    by: User | None = None,
    actor_label: str | None = None,
    source: str = SOURCE_MANUAL,
) -> int:
    """Add contacts to a list (those already on it are left as they are); ``source``
    says how they joined."""
    already = set(
        session.scalars(
            select(ListMembership.contact_id).where(
                ListMembership.list_id == lst.id, ListMembership.contact_id.in_(contact_ids)
            )
        )
    )
    added = 0
    for contact_id in dict.fromkeys(contact_ids):
        if contact_id not in already:
            session.add(ListMembership(list_id=lst.id, contact_id=contact_id, source=source))
            added += 1
    if added:
        audit.record(
            session,
            actions.LIST_MEMBERS_ADDED,
            actor=by,
            actor_label=actor_label,
            target_type="list",
            target_id=lst.id,
            summary=f"Added {added} contact(s) to {lst.name!r}",
        )
    return added


def bulk_add(
    session: Session,
    lst: ContactList,
    *,
    addresses: str,
    by: User | None = None,
    actor_label: str | None = None,
) -> tuple[int, list[str]]:
    """Add known contacts, named one address a line; returns (added, not found)."""
    wanted = [a.strip() for a in addresses.replace(",", "\n").splitlines() if a.strip()]
    keys = {a.casefold(): a for a in wanted}
    found = dict(
        session.execute(
            select(Contact.email_key, Contact.id).where(Contact.email_key.in_(list(keys)))
        ).all()
    )
    added = add_members(
        session, lst, contact_ids=list(found.values()), by=by, actor_label=actor_label
    )
    return added, [original for key, original in keys.items() if key not in found]


def bulk_remove(
    session: Session,
    lst: ContactList,
    *,
    contact_ids: list[int],
    by: User | None = None,
    actor_label: str | None = None,
) -> int:
    if not contact_ids:
        return 0
    removed = rows_changed(
        session,
        delete(ListMembership).where(
            ListMembership.list_id == lst.id, ListMembership.contact_id.in_(contact_ids)
        ),
    )
    if removed:
        audit.record(
            session,
            actions.LIST_MEMBERS_REMOVED,
            actor=by,
            actor_label=actor_label,
            target_type="list",
            target_id=lst.id,
            summary=f"Removed {removed} contact(s) from {lst.name!r}",
        )
    return removed


def save_contact(
    session: Session,
    contact: Contact | None,
    *,
    email: str,
    name: str,
    organisation: str,
    organisation_type_id: int | None,
    role: str,
    area: str,
    tags: str,
    lawful_basis: str,
    by: User | None = None,
    actor_label: str | None = None,
    source: str = SOURCE_MANUAL,
) -> Contact:
    """Add (contact None) or edit a contact by hand."""
    try:
        normalised = validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise DirectoryError(
            f"{email.strip() or 'That'} is not a valid email address: {exc}"
        ) from None
    key = normalised.casefold()
    if lawful_basis not in LAWFUL_BASES:
        raise DirectoryError("Choose a lawful basis.")
    if (
        organisation_type_id is not None
        and session.get(OrganisationType, organisation_type_id) is None
    ):
        raise DirectoryError(
            "That organisation type does not exist (it may have been removed); choose another."
        )
    clash = session.scalar(select(Contact).where(Contact.email_key == key))
    if clash is not None and clash is not contact:
        raise AlreadyExists(f"{normalised} is already a contact.")
    if contact is None:
        if suppression.is_suppressed(session, key):
            raise DirectoryError(
                f"{normalised} is on the suppression list (it unsubscribed, "
                "bounced or was erased) and cannot be added."
            )
        contact = Contact(source=source, status=ACTIVE)
        session.add(contact)
    values = {
        "name": clean_text(name)[:200],
        "organisation": clean_text(organisation)[:200],
        "role": clean_text(role)[:200],
        "area": clean_text(area)[:200],
        "tags": normalise_tags(tags),
    }
    changed = [k for k, v in values.items() if getattr(contact, k, None) != v]
    for k, v in values.items():
        setattr(contact, k, v)
    if contact.email != normalised:
        changed.append("email")
    contact.email, contact.email_key = normalised, key
    if contact.organisation_type_id != organisation_type_id:
        changed.append("organisation type")
        contact.organisation_type_id = organisation_type_id
    if contact.lawful_basis != lawful_basis:
        changed.append("lawful basis")
        contact.lawful_basis = lawful_basis
        from mailer.database import utcnow

        contact.lawful_basis_recorded_at = utcnow()
    session.flush()
    audit.record(
        session,
        actions.CONTACT_SAVED,
        actor=by,
        actor_label=actor_label,
        target_type="contact",
        target_id=contact.id,
        summary=f"Contact #{contact.id}: {', '.join(changed) or 'no change'}",
    )
    return contact


def suppressions(
    session: Session, *, page: int = 1, per_page: int = PER_PAGE
) -> tuple[list[Suppression], int]:
    total = session.scalar(select(func.count(Suppression.id))) or 0
    rows = session.scalars(
        select(Suppression)
        .order_by(Suppression.id.desc())
        .offset((paging.within(page, total, per_page) - 1) * per_page)
        .limit(per_page)
    )
    return list(rows), total


def suppress_contact(
    session: Session,
    contact: Contact,
    *,
    by: User | None = None,
    actor_label: str | None = None,
    reason: str = "",
) -> None:
    """An admin stops mail to a contact (at their request by phone, say)."""
    suppression.suppress(
        session,
        email_key=contact.email_key,
        reason=SUPPRESSED_MANUAL,
        contact=contact,
        detail=reason or "suppressed by an admin",
    )
    contact.status = "unsubscribed"
    audit.record(
        session,
        actions.SUPPRESSION_ADDED,
        actor=by,
        actor_label=actor_label,
        target_type="contact",
        target_id=contact.id,
        summary=f"Suppressed contact #{contact.id}",
    )


def remove_suppression(
    session: Session, entry: Suppression, *, by: User | None = None, actor_label: str | None = None
) -> None:
    """Allow mail again. A contact that still exists becomes active. An erased
    address stays suppressed: lifting it would let an import bring the person back."""
    if entry.reason == SUPPRESSED_ERASED:
        raise NotLiftable(
            "This address was erased on request; its suppression stays, so that it "
            "is never added again."
        )
    contact = entry.contact
    if contact is not None and contact.status != ACTIVE:
        contact.status = ACTIVE
        contact.unsubscribed_at = None
    audit.record(
        session,
        actions.SUPPRESSION_REMOVED,
        actor=by,
        actor_label=actor_label,
        target_type="suppression",
        target_id=entry.id,
        summary=f"Removed a suppression ({entry.reason})"
        f"{f' for contact #{contact.id}' if contact else ''}",
    )
    session.delete(entry)
