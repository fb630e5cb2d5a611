"""A contact's text values as they are stored: one clean line of text, tags without
repeats, organisation types matched by a key, list names within their limit.

The import, the admin's contact form and the organisation types all clean values here,
so a value means the same wherever it came in.
"""

from __future__ import annotations

import re

from mailer.cleaning import strip_controls

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")
_SPACES = re.compile(r"\s+")


LIST_NAME_MAX = 120


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


def type_key(name: str) -> str:
    return name.replace("\u2019", "'").strip().casefold()


def normalise_tags(raw: str) -> str:
    tags: list[str] = []
    for tag in raw.split(";"):
        tag = clean_text(tag)
        if tag and tag.casefold() not in (t.casefold() for t in tags):
            tags.append(tag)
    return ";".join(tags)


def list_name_problem(name: str) -> str | None:
    """Why a (cleaned) list name cannot be used, or None."""
    if not name:
        return "a list needs a name"
    if len(name) > LIST_NAME_MAX:
        return f"a list name must be at most {LIST_NAME_MAX} characters ({name[:40]!r}...)"
    return None
