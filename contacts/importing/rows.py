"""Judging one row on its own: its address, its values and its organisation type make
a contact to apply, or the reason the row is rejected."""

from __future__ import annotations

from dataclasses import dataclass

from contacts.addresses import AddressValidator, EmailNotValidError
from contacts.importing.report import RowReport
from contacts.importing.types import TypeResolver
from contacts.values import clean_text, normalise_tags

MAX_FIELD_LENGTHS = {"name": 200, "organisation": 200, "role": 200, "area": 200, "tags": 2000}


@dataclass
class CheckedRow:
    """A row that passed its checks: what the import writes for one address."""

    line: int
    email: str
    email_key: str
    values: dict[str, str]
    organisation_type_id: int | None

    @property
    def who(self) -> str:
        return who(self.values)


def who(values: dict[str, str]) -> str:
    """A person as the preview lists them: "Alice Smith, Northshire Council"."""
    return ", ".join(v for v in (values.get("name", ""), values.get("organisation", "")) if v)


class RowChecker:
    """Judges the rows of one file one by one: a contact to apply, or why not."""

    def __init__(self, types: TypeResolver) -> None:
        self.types = types
        self.addresses = AddressValidator()
        self.seen: dict[str, int] = {}  # address key -> the line that used it first

    def check(self, line: int, cells: dict[str, str]) -> CheckedRow | RowReport:
        """The row to apply, or the rejection (a RowReport) saying why not."""
        raw_email = clean_text(cells.get("email", ""))
        if "__error__" in cells:
            return RowReport(line, raw_email, cells["__error__"])
        person = who({c: clean_text(cells.get(c, ""))[:200] for c in ("name", "organisation")})
        if not raw_email:
            return RowReport(line, "", "no email address", person)
        try:
            email = self.addresses.normalise(raw_email)
        except EmailNotValidError as exc:
            return RowReport(line, raw_email, str(exc), person)
        key = email.casefold()
        if key in self.seen:
            reason = f"the same address as line {self.seen[key]} (that row is the one used)"
            return RowReport(line, email, reason, person)
        self.seen[key] = line
        values, problem = _values(cells)
        type_id, type_problem = self.types.resolve(cells.get("organisation_type", ""))
        problem = type_problem or problem
        if problem:
            return RowReport(line, email, problem, who(values))
        return CheckedRow(line, email, key, values, type_id)


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
