"""What the import preview lists: who would be added, updated, rejected or left alone
as suppressed, a page at a time, and the rejected rows as a CSV to fix and import
again (safe to open in a spreadsheet)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass

from contacts.exporting import neutralise
from contacts.importing.report import ImportReport, RowReport
from mailer.paging import pages, within

PER_PAGE = 50
# The lists a preview shows, in order, with their headings.
SHOWS = {
    "added": "New",
    "updated": "Updated",
    "rejected": "Rejected",
    "suppressed": "Suppressed",
}
PROBLEM = "problem"


@dataclass(frozen=True)
class RowsPage:
    """One page of one of the preview's lists."""

    show: str
    rows: list[RowReport]
    page: int
    pages: int
    total: int


def _rows(report: ImportReport, show: str) -> list[RowReport]:
    return {
        "added": report.additions,
        "updated": report.updates,
        "rejected": report.rejections,
        "suppressed": report.suppressions,
    }[show]


def counts(report: ImportReport) -> dict[str, int]:
    return {show: len(_rows(report, show)) for show in SHOWS}


def first_show(report: ImportReport) -> str:
    """The list a preview opens on: the rejected rows when there are any."""
    if report.rejections:
        return "rejected"
    return next((show for show in SHOWS if _rows(report, show)), "added")


def rows_page(report: ImportReport, *, show: str, page: int, per_page: int = PER_PAGE) -> RowsPage:
    """Page ``page`` (kept within the list) of the list ``show``, in the file's order."""
    if show not in SHOWS:
        show = first_show(report)
    rows = sorted(_rows(report, show), key=lambda r: r.line)
    page = within(page, len(rows), per_page)
    start = (page - 1) * per_page
    return RowsPage(
        show=show,
        rows=rows[start : start + per_page],
        page=page,
        pages=pages(len(rows), per_page),
        total=len(rows),
    )


class _Line:
    def __init__(self) -> None:
        self.value = ""

    def write(self, text: str) -> None:
        self.value = text


def rejected_rows_csv(report: ImportReport) -> Iterator[str]:
    """The rejected rows as the file had them, with a last column saying what to fix.

    Needs a report made with ``keep_rejected``. Every cell that a spreadsheet would run
    as a formula is made plain text, as in the export; the import takes that mark off
    again, so the fixed file imports as written.
    """
    sink = _Line()
    writer = csv.writer(sink)
    width = len(report.header)
    writer.writerow([neutralise(name) for name in [*report.header, PROBLEM]])
    yield sink.value
    for row in sorted(report.rejections, key=lambda r: r.line):
        raw = report.rejected_cells.get(row.line, [row.email])
        cells = [*raw[:width], *[""] * (width - len(raw)), row.reason, *raw[width:]]
        writer.writerow([neutralise(cell) for cell in cells])
        yield sink.value
