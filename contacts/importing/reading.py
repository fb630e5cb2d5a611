"""Reading a CSV as real spreadsheets write it: the encoding (UTF-8, with or without a
BOM, UTF-16 with its BOM, or Windows-1252), the delimiter, the header's names and what
each column goes into (guessed from the usual names, or chosen in the preview), and each
row's cells by field, with the line it starts on and the cells as the file had them."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from contacts.importing.report import ImportReport, UnusableFile

# The fields a column can go into, with the words the preview shows for them.
FIELD_LABELS = {
    "email": "Email address",
    "name": "Name",
    "organisation": "Organisation",
    "organisation_type": "Organisation type",
    "role": "Role or job title",
    "area": "Area",
    "tags": "Tags",
}
COLUMNS = tuple(FIELD_LABELS)
IGNORE = ""  # a column left out of the import

# How two columns chosen for one field are put together ("First name" and "Surname").
_JOINERS = {"name": " ", "tags": ";"}

# Normalised header (lower case, letters and digits only) -> our column.
HEADER_ALIASES = {
    "email": "email",
    "emailaddress": "email",
    "mail": "email",
    "emailaddr": "email",
    "workemail": "email",
    "name": "name",
    "fullname": "name",
    "contactname": "name",
    "contact": "name",
    "organisation": "organisation",
    "organization": "organisation",
    "organisationname": "organisation",
    "organizationname": "organisation",
    "org": "organisation",
    "orgname": "organisation",
    "company": "organisation",
    "companyname": "organisation",
    "employer": "organisation",
    "organisationtype": "organisation_type",
    "organizationtype": "organisation_type",
    "orgtype": "organisation_type",
    "typeoforganisation": "organisation_type",
    "sector": "organisation_type",
    "role": "role",
    "jobtitle": "role",
    "job": "role",
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


def detect_encoding(stream: BinaryIO) -> tuple[str, int]:
    """("utf-8-sig" | "utf-8" | "utf-16" | "cp1252", number of lines). Rewinds the stream."""
    stream.seek(0)
    head = stream.read(3)
    bom = head == codecs.BOM_UTF8
    utf16 = head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = not utf16
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
    if utf16:  # Excel's "Unicode text"
        return "utf-16", lines
    if utf8:
        return ("utf-8-sig" if bom else "utf-8"), lines
    return "cp1252", lines


def normalise_header(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.strip().lower())


def guess_column(name: str) -> str:
    """The field a header name usually means, or IGNORE."""
    return HEADER_ALIASES.get(normalise_header(name), IGNORE)


def recognised(name: str) -> bool:
    """The header is one of our own field names, not a guess from a synonym."""
    return normalise_header(name) in {normalise_header(field) for field in COLUMNS}


@dataclass(frozen=True)
class SourceRow:
    """One record of the file: its first line, its cells by field, and as written."""

    line: int
    cells: dict[str, str]
    raw: list[str]


def read_rows(
    stream: BinaryIO, report: ImportReport, *, columns: Sequence[str] | None = None
) -> Iterator[SourceRow]:
    """Each non-blank data row. ``columns`` says, per header column, the field it goes
    into (IGNORE to leave it out); without it the header's names are guessed."""
    text, header = _open(stream, report)
    mapping = _mapping(header, report, columns)
    reader = csv.reader(text, delimiter=report.delimiter)
    width = len(header)
    email_index = next(index for index, column in mapping if column == "email")
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
            reason = (
                f"has {len(cells)} fields but the header names {width}; "
                "is a value with a comma missing its quotes?"
            )
            email = cells[email_index] if email_index < len(cells) else ""
            yield SourceRow(line, {"__error__": reason, "email": email}, cells)
            continue
        yield SourceRow(line, _cells(cells, mapping), cells)


def read_header(stream: BinaryIO) -> list[str]:
    """The names of the file's columns, as written (UnusableFile for an empty file)."""
    _text, header = _open(stream, ImportReport())
    return [name.strip() for name in header]


def guess_columns(header: Sequence[str]) -> list[str]:
    """The field each column probably goes into; a second column for the same field is
    left out (the writer may change that in the preview)."""
    guessed: list[str] = []
    for name in header:
        column = guess_column(name)
        guessed.append(IGNORE if column in guessed else column)
    return guessed


def _open(stream: BinaryIO, report: ImportReport) -> tuple[io.TextIOWrapper, list[str]]:
    """The file as text, positioned after its header line, and the header's cells."""
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
    try:
        header = next(csv.reader([header_line], delimiter=delimiter))
    except (csv.Error, StopIteration) as exc:
        raise UnusableFile(f"line 1: the header line cannot be read ({exc})") from None
    report.header = [name.strip() for name in header]
    return text, header


def _mapping(
    header: list[str], report: ImportReport, columns: Sequence[str] | None
) -> list[tuple[int, str]]:
    """(column index, field) for every column that is used, in the file's order."""
    mapping: list[tuple[int, str]] = []
    if columns is None:
        for index, raw_name in enumerate(header):
            column = guess_column(raw_name)
            if column == IGNORE:
                if raw_name.strip():
                    report.ignored_columns.append(raw_name.strip())
                continue
            if column in (c for _i, c in mapping):
                raise UnusableFile(
                    f"two columns mean {column!r} (the second is {raw_name!r}); keep one"
                )
            mapping.append((index, column))
    else:
        for index, raw_name in enumerate(header):
            column = columns[index] if index < len(columns) else IGNORE
            if column not in FIELD_LABELS:
                if raw_name.strip():
                    report.ignored_columns.append(raw_name.strip())
                continue
            mapping.append((index, column))
    report.columns = [IGNORE] * len(header)
    for index, column in mapping:
        report.columns[index] = column
    emails = [index for index, column in mapping if column == "email"]
    if not emails:
        raise UnusableFile(
            "no email column in the header line "
            f"({', '.join(h.strip() for h in header) or 'empty'}); "
            "name one column 'email'"
        )
    if len(emails) > 1:
        raise UnusableFile("only one column can be the email address")
    return mapping


def _cells(cells: list[str], mapping: list[tuple[int, str]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for index, column in mapping:
        value = cells[index] if index < len(cells) else ""
        if column in found:  # a second column for the same field: put together
            if value.strip():
                joiner = _JOINERS.get(column, ", ")
                found[column] = joiner.join(v for v in (found[column].strip(), value) if v)
        else:
            found[column] = value
    return found
