"""Reading a CSV as real spreadsheets write it: the encoding (UTF-8, with or without a
BOM, or Windows-1252), the delimiter, the header's names and aliases, and each row's
cells by column, with the line it starts on."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from typing import BinaryIO

from contacts.importing.report import ImportReport, UnusableFile

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
