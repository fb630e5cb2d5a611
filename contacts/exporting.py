"""CSV export, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from contacts.models import Contact, ContactList, ListMembership
from mailer import audit
from mailer.accounts.models import User
from mailer.audit import actions

HEADER = (
    "email",
    "name",
    "organisation",
    "organisation_type",
    "role",
    "area",
    "tags",
    "status",
    "source",
    "lawful_basis",
    "lists",
    "created_at",
)

# A cell starting with one of these is run as a formula by Excel, LibreOffice and Google
# Sheets ("CSV injection"); a leading apostrophe makes it plain text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


class _Line:
    """A file-like sink that hands back what csv.writer writes, one row at a time."""

    def __init__(self) -> None:
        self.value = ""

    def write(self, text: str) -> None:
        self.value = text


def record_export(
    session: Session,
    *,
    by: User | None,
    list_name: str | None,
    by_label: str | None = None,
    ip: str | None = None,
) -> None:
    """Audit a bulk export (the admin page, or ``by_label="command line"``)."""
    what = f"the list {list_name}" if list_name else "all contacts"
    audit.record(
        session,
        actions.CONTACTS_EXPORTED,
        actor=by,
        actor_label=by_label,
        target_type="list" if list_name else None,
        target_id=list_name,
        summary=f"Exported {what} as CSV" + (f" ({by_label})" if by_label else ""),
        detail={"list": list_name},
        ip=ip,
    )


def export_rows(
    session: Session, *, list_name: str | None = None, batch_size: int = 2000
) -> Iterator[str]:
    """CSV text, a line at a time (streams: memory stays flat for any number of contacts).

    Raises LookupError when the list does not exist.
    """
    sink = _Line()
    writer = csv.writer(sink, lineterminator="\r\n")
    writer.writerow(HEADER)
    yield sink.value
    query = select(Contact).options(selectinload(Contact.memberships)).order_by(Contact.id)
    if list_name is not None:
        target = session.scalar(select(ContactList).where(ContactList.name == list_name))
        if target is None:
            raise LookupError(list_name)
        query = query.join(ListMembership).where(ListMembership.list_id == target.id)
    last_id = 0
    while True:
        page = session.scalars(query.where(Contact.id > last_id).limit(batch_size)).all()
        if not page:
            return
        for contact in page:
            lists = ";".join(sorted(m.list.name for m in contact.memberships))
            writer.writerow(
                [
                    neutralise(str(v))
                    for v in (
                        contact.email,
                        contact.name,
                        contact.organisation,
                        contact.organisation_type.name if contact.organisation_type else "",
                        contact.role,
                        contact.area,
                        contact.tags,
                        contact.status,
                        contact.source,
                        contact.lawful_basis,
                        lists,
                        contact.created_at.isoformat(),
                    )
                ]
            )
            yield sink.value
        last_id = page[-1].id
        session.expunge_all()
