"""Importing a CSV of contacts into the caller's transaction: the lists they join, each
row read, checked and applied in batches, and the audit entry of a real run."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contacts.importing.applying import apply_batch
from contacts.importing.reading import read_rows
from contacts.importing.report import ImportReport, RowReport, UnusableFile
from contacts.importing.rows import CheckedRow, RowChecker
from contacts.importing.types import REJECT, TypeResolver
from contacts.models import DEFAULT_LAWFUL_BASIS, LAWFUL_BASES, ContactList
from contacts.values import clean_text, list_name_problem
from mailer import audit
from mailer.accounts.models import User
from mailer.audit import actions

log = logging.getLogger(__name__)

BATCH_SIZE = 1000


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
    columns: Sequence[str] | None = None,
    types: Mapping[str, str] | None = None,
    unknown_types: str = REJECT,
    keep_rejected: bool = False,
) -> ImportReport:
    """Import a CSV into the caller's transaction and say what happened to every row.

    With ``dry_run`` nothing is written: every row is judged exactly as a real run
    would judge it (rows of one file never depend on each other's writes: a repeated
    address is rejected before), so the counts are those a real run would give, and a
    preview needs no write lock (the admin runs it in a read-only session).

    ``columns`` names, per column of the file, the field it goes into ("" leaves it
    out); without it the header's names are guessed. ``types`` chooses, per unknown
    organisation type (by its ``type_key``), what its rows get (contacts.importing.types);
    ``unknown_types`` is the choice for the others. ``keep_rejected`` keeps the rejected
    rows' cells as written, for the file of rejected rows.
    """
    if lawful_basis not in LAWFUL_BASES:
        raise UnusableFile(
            f"unknown lawful basis {lawful_basis!r} (one of: {', '.join(LAWFUL_BASES)})"
        )
    report = ImportReport(dry_run=dry_run)
    resolver = TypeResolver(
        session,
        report,
        choices=types or {},
        default=unknown_types,
        write=not dry_run,
        by=by,
        by_label=by_label,
    )
    _run(
        session,
        stream,
        report,
        lists=list(lists),
        lawful_basis=lawful_basis,
        progress=progress,
        write=not dry_run,
        columns=columns,
        resolver=resolver,
        keep_rejected=keep_rejected,
    )
    if not dry_run:
        audit.record(
            session,
            actions.CONTACTS_IMPORTED,
            actor=by,
            actor_label=by_label,
            target_type="import",
            target_id=filename[:64] or None,
            summary=f"Imported {filename or 'a file'}: {report.summary_sentence()}",
            detail={
                "file": filename,
                "lists": [*lists],
                "counts": report.summary_line(),
                "new_types": report.created_types,
            },
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
    write: bool,
    columns: Sequence[str] | None,
    resolver: TypeResolver,
    keep_rejected: bool,
) -> None:
    rows = read_rows(stream, report, columns=columns)
    # Reading the first row reads the header: an unusable file fails here, before any
    # list is made.
    first = next(rows, None)
    list_ids = [lst.id for lst in get_or_create_lists(session, lists, report, create=write)]
    checker = RowChecker(resolver)
    batch: list[CheckedRow] = []
    for count, source in enumerate(chain([first] if first else [], rows), start=1):
        if progress is not None and count % 500 == 0:
            progress(500)
        row = checker.check(source.line, source.cells)
        if isinstance(row, RowReport):
            report.rejected += 1
            report.rejections.append(row)
            if keep_rejected:
                report.rejected_cells[source.line] = source.raw
            continue
        batch.append(row)
        if len(batch) >= BATCH_SIZE:
            apply_batch(session, batch, report, list_ids, lawful_basis, write=write)
            batch = []
    if batch:
        apply_batch(session, batch, report, list_ids, lawful_basis, write=write)
    resolver.note_known_types()
    if report.ignored_columns:
        report.notes.append("Columns left out: " + ", ".join(report.ignored_columns))


@dataclass(frozen=True)
class PlannedList:
    """A list a dry run would create: never written, so it has a stand-in id."""

    id: int
    name: str


def get_or_create_lists(
    session: Session, names: list[str], report: ImportReport, *, create: bool = True
) -> list[ContactList | PlannedList]:
    found: list[ContactList | PlannedList] = []
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
                found.append(PlannedList(-len(report.created_lists), name))
            continue
        if existing is None:
            existing = ContactList(name=name)
            session.add(existing)
            session.flush()
            report.created_lists.append(name)
        if existing not in found:
            found.append(existing)
    return found
