"""CSV import: messy spreadsheets in, clean contacts out, all or nothing.

What real files bring and how it is handled:
- UTF-8 with or without a BOM, or Windows-1252 (Excel's "CSV" on Windows): the file is
  read once to find out, then parsed as that.
- Comma, semicolon or tab delimiters: taken from the header line.
- Header names in any case, with spaces or dashes, and the usual aliases.
- Blank lines are skipped; whitespace is trimmed; CR, LF and other control characters
  inside a cell are turned into spaces, so no value can ever break a mail header.
- The same address twice in one file: the first row is used, later ones are reported.
- Addresses already known are updated (never duplicated); a suppressed address
  (unsubscribed, bounced, erased) is reported as suppressed and left alone.

Rows are processed in batches so memory stays flat however large the file; the caller
owns the transaction, so valid rows land together or, on any failure, not at all.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from contacts import suppression
from contacts.addresses import AddressValidator, EmailNotValidError
from contacts.models import (
    ACTIVE,
    DEFAULT_LAWFUL_BASIS,
    LAWFUL_BASES,
    SOURCE_IMPORT,
    Contact,
    ContactList,
    ListMembership,
    OrganisationType,
)
from mailer import audit
from mailer.accounts.models import User
from mailer.audit import actions
from mailer.cleaning import strip_controls
from mailer.database import table_of, utcnow

if TYPE_CHECKING:
    from sqlalchemy import Row

log = logging.getLogger(__name__)

BATCH_SIZE = 1000
MAX_FIELD_LENGTHS = {"name": 200, "organisation": 200, "role": 200, "area": 200, "tags": 2000}

# Normalised header (lower case, letters and digits only) -> our column.
HEADER_ALIASES = {
    "email": "email",
    "emailaddress": "email",
    "mail": "email",
    "emailaddr": "email",
    "name": "name",
    "fullname": "name",
    "contactname": "name",
    "contact": "name",
    "organisation": "organisation",
    "organization": "organisation",
    "org": "organisation",
    "company": "organisation",
    "employer": "organisation",
    "organisationtype": "organisation_type",
    "organizationtype": "organisation_type",
    "orgtype": "organisation_type",
    "sector": "organisation_type",
    "role": "role",
    "jobtitle": "role",
    "title": "role",
    "position": "role",
    "area": "area",
    "region": "area",
    "district": "area",
    "locality": "area",
    "tags": "tags",
    "tag": "tags",
    "labels": "tags",
}
COLUMNS = ("email", "name", "organisation", "organisation_type", "role", "area", "tags")

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")
_SPACES = re.compile(r"\s+")


class UnusableFile(Exception):
    """The file as a whole cannot be imported (exit status 2); nothing was changed."""


@dataclass(frozen=True)
class RowReport:
    line: int
    email: str
    reason: str


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    suppressed: int = 0
    rejections: list[RowReport] = field(default_factory=list)
    suppressions: list[RowReport] = field(default_factory=list)
    # Line numbers of rows that would add or update, for a preview.
    additions: list[RowReport] = field(default_factory=list)
    updates: list[RowReport] = field(default_factory=list)
    created_lists: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    encoding: str = ""
    delimiter: str = ""
    dry_run: bool = False

    def summary_line(self) -> str:
        return (
            f"added={self.added} updated={self.updated} unchanged={self.unchanged} "
            f"rejected={self.rejected} suppressed={self.suppressed}"
        )


@dataclass
class _Row:
    line: int
    email: str
    email_key: str
    values: dict[str, str]
    organisation_type_id: int | None


# --- reading ----------------------------------------------------------------------------


def detect_encoding(stream: BinaryIO) -> tuple[str, int]:
    """("utf-8-sig" | "utf-8" | "cp1252", number of lines). Rewinds the stream."""
    stream.seek(0)
    head = stream.read(3)
    bom = head == codecs.BOM_UTF8
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    lines = 0
    chunk = head
    while chunk:
        lines += chunk.count(b"\n")
        if utf8:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                utf8 = False
        chunk = stream.read(1 << 16)
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    stream.seek(0)
    if utf8:
        return ("utf-8-sig" if bom else "utf-8"), lines
    return "cp1252", lines


def _normalise_header(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.strip().lower())


def clean_text(value: str) -> str:
    """One line of text: control characters become spaces, runs of space one space.

    A leading apostrophe before a formula character is what our export (and careful
    spreadsheet users) put there to stop a formula; it is not part of the value.
    """
    # Most cells are already clean; str.isprintable() (in C) saves two regexes per cell.
    if value.isprintable() and "  " not in value and value == value.strip():
        if len(value) > 1 and value[0] == "'" and value[1] in "=+-@":
            return value[1:]
        return value
    value = _SPACES.sub(" ", _CONTROL.sub(" ", strip_controls(value))).strip()
    if len(value) > 1 and value[0] == "'" and value[1] in "=+-@":
        value = value[1:]
    return value


def read_rows(stream: BinaryIO, report: ImportReport) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {column: raw cell}) for each non-blank data row."""
    encoding, _lines = detect_encoding(stream)
    report.encoding = encoding
    # cp1252 leaves five bytes undefined; decode them rather than fail the whole file.
    text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
    header_line = text.readline()
    if not header_line.strip():
        raise UnusableFile(
            "the file is empty or its first line is blank; "
            "the first line must name the columns (email, name, ...)"
        )
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    delimiter = max(counts, key=lambda d: counts[d])
    if counts[delimiter] == 0:
        delimiter = ","
    report.delimiter = delimiter
    header = next(csv.reader([header_line], delimiter=delimiter))
    mapping: dict[int, str] = {}
    for index, raw_name in enumerate(header):
        column = HEADER_ALIASES.get(_normalise_header(raw_name))
        if column is None:
            if raw_name.strip():
                report.ignored_columns.append(raw_name.strip())
            continue
        if column in mapping.values():
            raise UnusableFile(
                f"two columns mean {column!r} (the second is {raw_name!r}); keep one"
            )
        mapping[index] = column
    if "email" not in mapping.values():
        raise UnusableFile(
            "no email column in the header line "
            f"({', '.join(h.strip() for h in header) or 'empty'}); "
            "name one column 'email'"
        )
    reader = csv.reader(text, delimiter=delimiter)
    width = len(header)
    email_index = next(index for index, column in mapping.items() if column == "email")
    ended = 1  # the physical line the previous record ended on (the header: line 1)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise UnusableFile(f"line {ended + 1}: the CSV cannot be read ({exc})") from None
        # A quoted cell may span lines: report the line a record starts on, as an editor
        # shows it (reader.line_num counts from after the header we read ourselves).
        line, ended = ended + 1, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            yield (
                line,
                {
                    "__error__": f"has {len(cells)} fields but the header names {width}; "
                    "is a value with a comma missing its quotes?",
                    "email": cells[email_index],
                },
            )
            continue
        yield (
            line,
            {
                column: cells[index] if index < len(cells) else ""
                for index, column in mapping.items()
            },
        )


# --- importing --------------------------------------------------------------------------


LIST_NAME_MAX = 120


def list_name_problem(name: str) -> str | None:
    """Why a (cleaned) list name cannot be used, or None."""
    if not name:
        return "a list needs a name"
    if len(name) > LIST_NAME_MAX:
        return f"a list name must be at most {LIST_NAME_MAX} characters ({name[:40]!r}...)"
    return None


@dataclass(frozen=True)
class _PlannedList:
    """A list a dry run would create: never written, so it has a stand-in id."""

    id: int
    name: str


def get_or_create_lists(
    session: Session, names: list[str], report: ImportReport, *, create: bool = True
) -> list[ContactList | _PlannedList]:
    found: list[ContactList | _PlannedList] = []
    for raw in names:
        name = clean_text(raw)
        problem = list_name_problem(name)
        if problem:
            raise UnusableFile(problem)
        existing = session.scalar(
            select(ContactList).where(func.lower(ContactList.name) == name.lower())
        )
        if existing is None and not create:
            if name.lower() not in (c.lower() for c in report.created_lists):
                report.created_lists.append(name)
                found.append(_PlannedList(-len(report.created_lists), name))
            continue
        if existing is None:
            existing = ContactList(name=name)
            session.add(existing)
            session.flush()
            report.created_lists.append(name)
        if existing not in found:
            found.append(existing)
    return found


def import_contacts(
    session: Session,
    stream: BinaryIO,
    *,
    lists: list[str] | tuple[str, ...] = (),
    dry_run: bool = False,
    lawful_basis: str = DEFAULT_LAWFUL_BASIS,
    filename: str = "",
    by: User | None = None,
    by_label: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a CSV into the caller's transaction and say what happened to every row.

    With ``dry_run`` nothing is written: every row is judged exactly as a real run
    would judge it (rows of one file never depend on each other's writes: a repeated
    address is rejected before), so the counts are those a real run would give, and a
    preview needs no write lock (the admin runs it in a read-only session).
    """
    if lawful_basis not in LAWFUL_BASES:
        raise UnusableFile(
            f"unknown lawful basis {lawful_basis!r} (one of: {', '.join(LAWFUL_BASES)})"
        )
    report = ImportReport(dry_run=dry_run)
    _run(
        session,
        stream,
        report,
        lists=list(lists),
        lawful_basis=lawful_basis,
        progress=progress,
        write=not dry_run,
    )
    if not dry_run:
        audit.record(
            session,
            actions.CONTACTS_IMPORTED,
            actor=by,
            actor_label=by_label,
            target_type="import",
            target_id=filename[:64] or None,
            summary=f"Imported {filename or 'a file'}: {report.summary_line()}",
            detail={"file": filename, "lists": [*lists], "counts": report.summary_line()},
        )
    log.info(
        "import %s%s: %s",
        filename or "(stream)",
        " (dry run)" if dry_run else "",
        report.summary_line(),
    )
    return report


def _run(
    session: Session,
    stream: BinaryIO,
    report: ImportReport,
    *,
    lists: list[str],
    lawful_basis: str,
    progress: Callable[[int], None] | None,
    write: bool = True,
) -> None:
    rows = read_rows(stream, report)
    # Reading the first row reads the header: an unusable file fails here, before any
    # list is made.
    first = next(rows, None)
    target_lists = get_or_create_lists(session, lists, report, create=write)
    checker = _RowChecker(session)
    batch: list[_Row] = []
    for count, (line, cells) in enumerate(chain([first] if first else [], rows), start=1):
        if progress is not None and count % 500 == 0:
            progress(500)
        row = checker.check(line, cells)
        if isinstance(row, RowReport):
            report.rejected += 1
            report.rejections.append(row)
            continue
        batch.append(row)
        if len(batch) >= BATCH_SIZE:
            _apply(session, batch, report, target_lists, lawful_basis, write=write)
            batch = []
    if batch:
        _apply(session, batch, report, target_lists, lawful_basis, write=write)
    if checker.unknown_type:
        names = session.scalars(
            select(OrganisationType.name).order_by(OrganisationType.position, OrganisationType.name)
        )
        report.notes.append("known organisation types: " + "; ".join(names))
    if report.ignored_columns:
        report.notes.append("columns ignored: " + ", ".join(report.ignored_columns))


class _RowChecker:
    """Judges the rows of one file one by one: a contact to apply, or why not."""

    def __init__(self, session: Session) -> None:
        self.types = {
            type_key(name): type_id
            for type_id, name in session.execute(select(OrganisationType.id, OrganisationType.name))
        }
        self.addresses = AddressValidator()
        self.seen: dict[str, int] = {}  # address key -> the line that used it first
        self.unknown_type = False

    def check(self, line: int, cells: dict[str, str]) -> _Row | RowReport:
        """The row to apply, or the rejection (a RowReport) saying why not."""
        raw_email = clean_text(cells.get("email", ""))
        if "__error__" in cells:
            return RowReport(line, raw_email, cells["__error__"])
        if not raw_email:
            return RowReport(line, "", "no email address")
        try:
            email = self.addresses.normalise(raw_email)
        except EmailNotValidError as exc:
            return RowReport(line, raw_email, str(exc))
        key = email.casefold()
        if key in self.seen:
            reason = f"the same address as line {self.seen[key]} (that row is the one used)"
            return RowReport(line, email, reason)
        self.seen[key] = line
        values, problem = _values(cells)
        type_id, type_problem = self._type_id(cells)
        problem = type_problem or problem
        if problem:
            return RowReport(line, email, problem)
        return _Row(line, email, key, values, type_id)

    def _type_id(self, cells: dict[str, str]) -> tuple[int | None, str | None]:
        """The organisation type's id (None for none given), or why it cannot be used."""
        type_name = clean_text(cells.get("organisation_type", ""))
        if not type_name:
            return None, None
        type_id = self.types.get(type_key(type_name))
        if type_id is None:
            self.unknown_type = True
            return None, f"unknown organisation type {type_name!r}"
        return type_id, None


def _values(cells: dict[str, str]) -> tuple[dict[str, str], str | None]:
    """The cleaned text columns, and what is wrong with them (the last problem found)."""
    values: dict[str, str] = {}
    problem = None
    for column in ("name", "organisation", "role", "area"):
        value = clean_text(cells.get(column, ""))
        if len(value) > MAX_FIELD_LENGTHS[column]:
            problem = f"{column} is longer than {MAX_FIELD_LENGTHS[column]} characters"
        values[column] = value
    values["tags"] = normalise_tags(cells.get("tags", ""))
    if len(values["tags"]) > MAX_FIELD_LENGTHS["tags"]:
        problem = "too many tags"
    return values, problem


def type_key(name: str) -> str:
    return name.replace("\u2019", "'").strip().casefold()


def normalise_tags(raw: str) -> str:
    tags: list[str] = []
    for tag in raw.split(";"):
        tag = clean_text(tag)
        if tag and tag.casefold() not in (t.casefold() for t in tags):
            tags.append(tag)
    return ";".join(tags)


def _merge_tags(existing: str, new: str) -> str:
    return normalise_tags(f"{existing};{new}")


def _apply(
    session: Session,
    batch: list[_Row],
    report: ImportReport,
    target_lists: list[ContactList | _PlannedList],
    lawful_basis: str,
    *,
    write: bool = True,
) -> None:
    """Judge one batch against what is known, then write it (or, in a dry run, count)."""
    list_ids = [lst.id for lst in target_lists]
    known = _Known(session, batch, list_ids)
    changes = _Changes(list_ids=list_ids, lawful_basis=lawful_basis, now=utcnow())
    for row in batch:
        current = known.contacts.get(row.email_key)
        suppressed = known.suppression(row, current)
        if suppressed:
            report.suppressed += 1
            report.suppressions.append(RowReport(row.line, row.email, suppressed))
        elif current is None:
            changes.add(row)
        else:
            changed = changes.update(row, current, known.memberships)
            if changed:
                report.updated += 1
                report.updates.append(RowReport(row.line, row.email, changed))
            else:
                report.unchanged += 1
    if write:
        changes.write(session, report)
    else:  # a dry run: what would be written, counted
        for row in changes.new_lines.values():
            report.added += 1
            report.additions.append(RowReport(row.line, row.email, ""))


if TYPE_CHECKING:
    # A known contact's columns that an import compares (a row of _Known's select).
    _Current = Row[*tuple[Any, ...]]


class _Known:
    """What the database already holds about the addresses of one batch."""

    def __init__(self, session: Session, batch: list[_Row], list_ids: list[int]) -> None:
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

    def suppression(self, row: _Row, current: _Current | None) -> str | None:
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
    new_lines: dict[str, _Row] = field(default_factory=dict)  # the new rows by address key
    updates: list[dict[str, object]] = field(default_factory=list)
    joins: list[dict[str, object]] = field(default_factory=list)

    def add(self, row: _Row) -> None:
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

    def update(self, row: _Row, current: _Current, memberships: set[tuple[int, int]]) -> str:
        """Gather the changes to a known contact; what changes ("name, lists"), or ""."""
        changes = _changed_columns(row, current)
        new_joins = [lid for lid in self.list_ids if (current.id, lid) not in memberships]
        self.joins += [self._join(list_id, current.id) for list_id in new_joins]
        if changes:
            self.updates.append({"id": current.id, **changes, "updated_at": self.now})
        return ", ".join([*changes, *(["lists"] if new_joins else [])])

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
            report.additions.append(RowReport(row.line, row.email, ""))
            self.joins += [self._join(list_id, contact_id) for list_id in self.list_ids]

    def _join(self, list_id: int, contact_id: int) -> dict[str, object]:
        return {
            "list_id": list_id,
            "contact_id": contact_id,
            "joined_at": self.now,
            "source": SOURCE_IMPORT,
        }


def _changed_columns(row: _Row, current: _Current) -> dict[str, object]:
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
