"""Applying a batch of checked rows: what the database already knows of their addresses
(contacts, suppressions, list memberships), then the inserts, updates and list joins
that follow, written in a few statements (or, in a dry run, only counted)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from contacts import suppression
from contacts.importing.report import ImportReport, RowReport
from contacts.importing.rows import CheckedRow
from contacts.models import ACTIVE, SOURCE_IMPORT, Contact, ListMembership
from contacts.values import normalise_tags
from mailer.database import table_of, utcnow

if TYPE_CHECKING:
    from sqlalchemy import Row


def apply_batch(
    session: Session,
    batch: list[CheckedRow],
    report: ImportReport,
    list_ids: list[int],
    lawful_basis: str,
    *,
    write: bool = True,
) -> None:
    """Judge one batch against what is known, then write it (or, in a dry run, count).
    Every contact, new or known, joins the lists ``list_ids``."""
    known = _Known(session, batch, list_ids)
    changes = _Changes(list_ids=list_ids, lawful_basis=lawful_basis, now=utcnow())
    for row in batch:
        current = known.contacts.get(row.email_key)
        suppressed = known.suppression(row, current)
        if suppressed:
            report.suppressed += 1
            report.suppressions.append(RowReport(row.line, row.email, suppressed, row.who))
        elif current is None:
            changes.add(row)
        else:
            changed = changes.update(row, current, known.memberships)
            if changed:
                report.updated += 1
                report.updates.append(RowReport(row.line, row.email, changed, row.who))
            else:
                report.unchanged += 1
    if write:
        changes.write(session, report)
    else:  # a dry run: what would be written, counted
        for row in changes.new_lines.values():
            report.added += 1
            report.additions.append(RowReport(row.line, row.email, "", row.who))


if TYPE_CHECKING:
    # A known contact's columns that an import compares (a row of _Known's select).
    _Current = Row[*tuple[Any, ...]]


class _Known:
    """What the database already holds about the addresses of one batch."""

    def __init__(self, session: Session, batch: list[CheckedRow], list_ids: list[int]) -> None:
        keys = [row.email_key for row in batch]
        self.contacts: dict[str, _Current] = {
            c.email_key: c
            for c in session.execute(
                select(
                    Contact.id,
                    Contact.email_key,
                    Contact.status,
                    Contact.name,
                    Contact.organisation,
                    Contact.organisation_type_id,
                    Contact.role,
                    Contact.area,
                    Contact.tags,
                ).where(Contact.email_key.in_(keys))
            )
        }
        self.hashes = {
            row.email_key: suppression.address_hash(session, row.email_key) for row in batch
        }
        self.suppressed = suppression.suppressed_hashes(session, list(self.hashes.values()))
        # (contact id, list id) of the known contacts already on the target lists.
        self.memberships: set[tuple[int, int]] = set()
        if list_ids and self.contacts:
            self.memberships = set(
                session.execute(
                    select(ListMembership.contact_id, ListMembership.list_id).where(
                        ListMembership.contact_id.in_([c.id for c in self.contacts.values()]),
                        ListMembership.list_id.in_(list_ids),
                    )
                )
            )

    def suppression(self, row: CheckedRow, current: _Current | None) -> str | None:
        """Why the row's address must not be imported, or None."""
        if current is not None and current.status != ACTIVE:
            return current.status
        if self.hashes[row.email_key] in self.suppressed:
            return "on the suppression list"
        return None


@dataclass
class _Changes:
    """What one batch writes: gathered row by row, then written in a few statements."""

    list_ids: list[int]
    lawful_basis: str
    now: datetime
    new_rows: list[dict[str, object]] = field(default_factory=list)
    new_lines: dict[str, CheckedRow] = field(default_factory=dict)  # the new rows by address key
    updates: list[dict[str, object]] = field(default_factory=list)
    joins: list[dict[str, object]] = field(default_factory=list)

    def add(self, row: CheckedRow) -> None:
        self.new_rows.append(
            {
                "email": row.email,
                "email_key": row.email_key,
                **row.values,
                "organisation_type_id": row.organisation_type_id,
                "status": ACTIVE,
                "source": SOURCE_IMPORT,
                "lawful_basis": self.lawful_basis,
                "lawful_basis_recorded_at": self.now,
                "created_at": self.now,
                "updated_at": self.now,
            }
        )
        self.new_lines[row.email_key] = row

    def update(self, row: CheckedRow, current: _Current, memberships: set[tuple[int, int]]) -> str:
        """Gather the changes to a known contact; what changes ("name, lists"), or ""."""
        changes = _changed_columns(row, current)
        new_joins = [lid for lid in self.list_ids if (current.id, lid) not in memberships]
        self.joins += [self._join(list_id, current.id) for list_id in new_joins]
        if changes:
            self.updates.append({"id": current.id, **changes, "updated_at": self.now})
        words = [_CHANGE_WORDS.get(column, column) for column in changes]
        return ", ".join([*words, *(["lists"] if new_joins else [])])

    def write(self, session: Session, report: ImportReport) -> None:
        if self.new_rows:
            self._insert(session, report)
        for change in self.updates:
            session.execute(
                update(Contact)
                .where(Contact.id == change["id"])
                .values({k: v for k, v in change.items() if k != "id"})
            )
        if self.joins:
            session.execute(table_of(ListMembership).insert(), self.joins)

    def _insert(self, session: Session, report: ImportReport) -> None:
        # An executemany (batched into multi-row INSERTs on PostgreSQL, see
        # mailer.database) and one lookup of the new ids: RETURNING over many rows makes
        # SQLAlchemy split the batch into small statements, several times slower.
        table = table_of(Contact)
        session.execute(table.insert(), self.new_rows)
        created = session.execute(
            select(table.c.id, table.c.email_key).where(table.c.email_key.in_(list(self.new_lines)))
        )
        for contact_id, email_key in created:
            row = self.new_lines[email_key]
            report.added += 1
            report.additions.append(RowReport(row.line, row.email, "", row.who))
            self.joins += [self._join(list_id, contact_id) for list_id in self.list_ids]

    def _join(self, list_id: int, contact_id: int) -> dict[str, object]:
        return {
            "list_id": list_id,
            "contact_id": contact_id,
            "joined_at": self.now,
            "source": SOURCE_IMPORT,
        }


# What the preview says changes, for the columns whose names are not plain words.
_CHANGE_WORDS = {"organisation_type_id": "organisation type"}


def _changed_columns(row: CheckedRow, current: _Current) -> dict[str, object]:
    """The columns a known contact's row changes. An empty cell never blanks a value."""
    changes: dict[str, object] = {}
    for column in ("name", "organisation", "role", "area"):
        if row.values[column] and row.values[column] != getattr(current, column):
            changes[column] = row.values[column]
    if row.values["tags"]:
        merged = _merge_tags(current.tags, row.values["tags"])
        if merged != current.tags:
            changes["tags"] = merged
    if (
        row.organisation_type_id is not None
        and row.organisation_type_id != current.organisation_type_id
    ):
        changes["organisation_type_id"] = row.organisation_type_id
    return changes


def _merge_tags(existing: str, new: str) -> str:
    return normalise_tags(f"{existing};{new}")
