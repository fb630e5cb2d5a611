"""The choices a writer makes in the import preview, read from its form: the field
each column goes into, and what each unknown organisation type's rows get.

A form is checked whole: a value that is not one of the offered choices is refused
with the sentence the writer reads, never half taken.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

from contacts.importing.reading import FIELD_LABELS, IGNORE
from contacts.importing.types import BLANK, CREATE, REJECT, used_type_id

TYPE_CHOICES = (CREATE, BLANK, REJECT)


class ChoiceError(Exception):
    """A choice that cannot be used; the message says why, for the writer."""


def columns_from_form(form: Mapping[str, str], header: Sequence[str]) -> list[str]:
    """The field each column goes into, from ``column-<n>`` (one per column)."""
    columns = [form.get(f"column-{index}", IGNORE) for index in range(len(header))]
    for column in columns:
        if column != IGNORE and column not in FIELD_LABELS:
            raise ChoiceError("That is not one of the fields a column can go into.")
    problem = columns_problem(columns, header)
    if problem:
        raise ChoiceError(problem)
    return columns


def columns_problem(columns: Sequence[str], header: Sequence[str]) -> str | None:
    """Why these columns cannot be imported as chosen, or None."""
    emails = [header[i] or f"column {i + 1}" for i, c in enumerate(columns) if c == "email"]
    if not emails:
        return "Choose the column that holds the email addresses."
    if len(emails) > 1:
        return (
            "Only one column can hold the email address; "
            f"{' and '.join(repr(name) for name in emails)} are both set to it."
        )
    return None


def types_from_form(form: Mapping[str, str], count: int) -> dict[str, str]:
    """Per unknown type, from ``type-key-<n>`` and ``type-<n>``: the choice made."""
    chosen: dict[str, str] = {}
    for index in range(min(count, 500)):
        key = form.get(f"type-key-{index}", "")[:200]
        choice = form.get(f"type-{index}", "")
        if not key:
            continue
        if choice not in TYPE_CHOICES and used_type_id(choice) is None:
            raise ChoiceError("That is not one of the choices for an organisation type.")
        chosen[key] = choice
    return chosen


def fingerprint(columns: Sequence[str], types: Mapping[str, str]) -> str:
    """The same for the same choices: tells whether the writer changed a choice after
    the preview they are looking at was made."""
    text = json.dumps([list(columns), sorted(types.items())])
    return hashlib.sha256(text.encode()).hexdigest()[:32]
