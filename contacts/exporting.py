"""CSV export, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from contacts.models import Contact, ContactList, ListMembership

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
