"""What an import says back: the counts, and every row that was not taken as it stood,
with its line number and the reason."""

from __future__ import annotations

from dataclasses import dataclass, field


class UnusableFile(Exception):
    """The file as a whole cannot be imported (exit status 2); nothing was changed."""


@dataclass(frozen=True)
class RowReport:
    line: int
    email: str
    reason: str
    # Who the row is about, as the preview lists them ("Alice Smith, Northshire Council").
    who: str = ""


@dataclass
class UnknownType:
    """An organisation type the file names that the office has not set up."""

    key: str  # matched case-insensitively (contacts.values.type_key)
    name: str  # as the file first spells it
    rows: int = 0
    choice: str = ""  # what happens to it (contacts.importing.types)


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
    created_types: list[str] = field(default_factory=list)
    unknown_types: list[UnknownType] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # The file's header as written, and the field each column went into ("" for none).
    header: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    # The rejected rows' cells as the file had them, by line (kept only when asked for).
    rejected_cells: dict[int, list[str]] = field(default_factory=dict)
    encoding: str = ""
    delimiter: str = ""
    dry_run: bool = False

    def summary_line(self) -> str:
        """The counts for scripts and the log (``contacts import`` prints it)."""
        return (
            f"added={self.added} updated={self.updated} unchanged={self.unchanged} "
            f"rejected={self.rejected} suppressed={self.suppressed}"
        )

    def summary_sentence(self) -> str:
        """The counts as a person reads them: "3 people added, none updated, 1 row
        rejected". Unchanged and suppressed rows are said only when there are some."""
        parts = [
            _count(self.added, "person", "people") + " added",
            _count(self.updated) + " updated",
        ]
        if self.unchanged:
            parts.append(_count(self.unchanged) + " unchanged")
        parts.append(_count(self.rejected, "row", "rows") + " rejected")
        if self.suppressed:
            parts.append(_count(self.suppressed) + " left alone as suppressed")
        return ", ".join(parts)


def _count(n: int, one: str = "", many: str = "") -> str:
    if n == 0:
        return "none"
    noun = one if n == 1 else many
    return f"{n} {noun}" if noun else str(n)
