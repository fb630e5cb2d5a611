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
        return (
            f"added={self.added} updated={self.updated} unchanged={self.unchanged} "
            f"rejected={self.rejected} suppressed={self.suppressed}"
        )
