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
