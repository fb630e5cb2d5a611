"""A list's members named by address, as another system knows them: add some, or make
the list exactly a given set (a sync from a CRM).

Only known contacts join (making contacts is the upsert's work, ``upserting``), and
a contact who cannot be mailed (unsubscribed, bounced, suppressed) is never added by
a sync: a sync says which addresses it left out and why, in counts. The writes are a
few statements whatever the size, so a list of thousands syncs in one request.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from contacts import suppression
from contacts.models import ACTIVE, SOURCE_API, Contact, ContactList, ListMembership
from contacts.upserting import FieldProblem, normalised_address
from mailer import audit
from mailer.audit import actions
from mailer.database import table_of, utcnow

log = logging.getLogger(__name__)

T = TypeVar("T")

# Rows per IN (...) list: well inside SQLite's and PostgreSQL's parameter limits.
CHUNK = 1000


@dataclass(frozen=True)
class Known:
    """The contacts some addresses name, and the addresses that name nobody."""

    ids: dict[str, int]  # email key -> contact id
    mailable: set[int]  # of those, the ones that may be mailed
    unknown: list[str] = field(default_factory=list)  # as given


@dataclass(frozen=True)
class SyncResult:
    added: int
    removed: int
    unchanged: int
    unknown: list[str]  # addresses of nobody known, as given
    suppressed: list[str]  # addresses left out because they cannot be mailed


def known(session: Session, emails: list[str], *, field_name: str = "emails") -> Known:
    """The contacts ``emails`` name. An address that is not valid is refused, naming
    it (``emails.3``), before anything is written."""
    keys: dict[str, str] = {}
    for index, email in enumerate(emails):
        try:
            keys.setdefault(normalised_address(email).casefold(), email)
        except FieldProblem as problem:
            raise FieldProblem(f"{field_name}.{index}", str(problem)) from None
    ids: dict[str, int] = {}
    statuses: dict[int, str] = {}
    for chunk in _chunks(list(keys)):
        for contact_id, key, status in session.execute(
            select(Contact.id, Contact.email_key, Contact.status).where(
                Contact.email_key.in_(chunk)
            )
        ):
            ids[key] = contact_id
            statuses[contact_id] = status
    # An active contact whose address is suppressed all the same (a suppression added
    # by address) is not mailed either.
    active = {key: cid for key, cid in ids.items() if statuses[cid] == ACTIVE}
    hashes = {suppression.address_hash(session, key): cid for key, cid in active.items()}
    held: set[str] = set()
    for chunk in _chunks(list(hashes)):
        held |= suppression.suppressed_hashes(session, chunk)
    mailable = {cid for digest, cid in hashes.items() if digest not in held}
    unknown = [original for key, original in keys.items() if key not in ids]
    return Known(ids, mailable, unknown)


def add(
    session: Session, lst: ContactList, contact_ids: list[int], *, actor_label: str
) -> tuple[int, int]:
    """Add contacts to the list; (added, already on it)."""
    wanted = list(dict.fromkeys(contact_ids))
    current = _members(session, lst, wanted)
    new = [cid for cid in wanted if cid not in current]
    _insert(session, lst, new)
    if new:
        audit.record(
            session,
            actions.LIST_MEMBERS_ADDED,
            actor_label=actor_label,
            target_type="list",
            target_id=lst.id,
            summary=f"Added {len(new)} contact(s) to {lst.name!r}",
        )
    return len(new), len(wanted) - len(new)


def sync(
    session: Session,
    lst: ContactList,
    emails: list[str],
    *,
    actor_label: str,
    allow_empty: bool = False,
) -> SyncResult:
    """Make the list's members exactly the contacts ``emails`` name: add the missing
    (those who may be mailed), remove the others. A sync that would leave a list with
    members empty (no addresses, or none of anybody known: a broken export) is refused
    unless ``allow_empty`` says it is meant."""
    found = known(session, emails)
    wanted = set(found.ids.values())
    current = _members(session, lst, None)
    to_add = sorted((wanted & found.mailable) - current)
    left_out = {cid for cid in wanted - found.mailable if cid not in current}
    to_remove = sorted(current - wanted)
    if current and not to_add and len(to_remove) == len(current) and not allow_empty:
        raise FieldProblem(
            "emails",
            f"This would remove all {len(current)} members of {lst.name!r} and leave it "
            'empty. To empty it on purpose, send "allow_empty": true as well.',
        )
    _insert(session, lst, to_add)
    for chunk in _chunks(to_remove):
        session.execute(
            delete(ListMembership).where(
                ListMembership.list_id == lst.id, ListMembership.contact_id.in_(chunk)
            )
        )
    if to_add or to_remove:
        audit.record(
            session,
            actions.LIST_MEMBERS_ADDED if to_add else actions.LIST_MEMBERS_REMOVED,
            actor_label=actor_label,
            target_type="list",
            target_id=lst.id,
            summary=f"Synced {lst.name!r}: added {len(to_add)}, removed {len(to_remove)}",
            detail={"added": len(to_add), "removed": len(to_remove)},
        )
    by_id = {cid: key for key, cid in found.ids.items()}
    result = SyncResult(
        added=len(to_add),
        removed=len(to_remove),
        unchanged=len(wanted & current),
        unknown=found.unknown,
        suppressed=sorted(by_id[cid] for cid in left_out),
    )
    log.info(
        "list %s synced by %s: added %s, removed %s, unknown %s, left out %s",
        lst.id,
        actor_label,
        result.added,
        result.removed,
        len(result.unknown),
        len(result.suppressed),
    )
    return result


def _members(session: Session, lst: ContactList, among: list[int] | None) -> set[int]:
    query = select(ListMembership.contact_id).where(ListMembership.list_id == lst.id)
    if among is None:
        return set(session.scalars(query))
    members: set[int] = set()
    for chunk in _chunks(among):
        members |= set(session.scalars(query.where(ListMembership.contact_id.in_(chunk))))
    return members


def _insert(session: Session, lst: ContactList, contact_ids: list[int]) -> None:
    if not contact_ids:
        return
    now = utcnow()
    session.execute(
        table_of(ListMembership).insert(),
        [
            {"list_id": lst.id, "contact_id": cid, "joined_at": now, "source": SOURCE_API}
            for cid in contact_ids
        ],
    )


def _chunks(items: list[T]) -> Iterator[list[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
