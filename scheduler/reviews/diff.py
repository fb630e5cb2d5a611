"""What changed since the last approved version: the words line by line (subject,
preheader, body), the parts of the audience added or removed, and the times moved.
Both sides are snapshots (snapshots.py)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

SAME = "same"
ADDED = "added"
REMOVED = "removed"
GAP = "gap"  # unchanged lines left out
# Unchanged lines shown either side of a change.
CONTEXT = 2

FIELDS = (("subject", "Subject"), ("preheader", "Preheader"), ("body", "Body"))


@dataclass(frozen=True)
class Line:
    kind: str
    text: str


@dataclass(frozen=True)
class WordChange:
    """One field of one message that changed, line by line."""

    message: str
    field: str
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Moved:
    label: str
    was: datetime | None  # None: not on the timeline (or "as soon as approved")
    now: datetime | None


@dataclass(frozen=True)
class Changes:
    first: bool  # nothing approved before: nothing to compare
    words: tuple[WordChange, ...] = ()
    audience_added: tuple[str, ...] = ()
    audience_removed: tuple[str, ...] = ()
    moved: tuple[Moved, ...] = ()

    @property
    def none(self) -> bool:
        return not (self.words or self.audience_added or self.audience_removed or self.moved)


def lines(before: str, after: str, *, context: int = CONTEXT) -> tuple[Line, ...]:
    """``after`` against ``before``, line by line, unchanged runs cut to ``context``
    lines either side of a change."""
    old, new = before.splitlines(), after.splitlines()
    found: list[Line] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(
        None, old, new, autojunk=False
    ).get_opcodes():
        if tag == "equal":
            found += _context(old[i1:i2], first=i1 == 0, last=i2 == len(old), context=context)
            continue
        found += [Line(REMOVED, text) for text in old[i1:i2]]
        found += [Line(ADDED, text) for text in new[j1:j2]]
    return tuple(found)


def _context(same: list[str], *, first: bool, last: bool, context: int) -> list[Line]:
    head = [] if first else same[:context]
    tail = [] if last else same[-context:]
    if len(head) + len(tail) >= len(same):
        return [Line(SAME, text) for text in same]
    return [
        *(Line(SAME, t) for t in head),
        Line(GAP, f"{len(same) - len(head) - len(tail)} unchanged lines"),
        *(Line(SAME, t) for t in tail),
    ]


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def compare(before: dict[str, Any] | None, after: dict[str, Any]) -> Changes:
    """What changed from the approved ``before`` (None: never approved) to ``after``."""
    if not before:
        return Changes(first=True)
    return Changes(
        first=False,
        words=tuple(_words(before.get("messages", []), after.get("messages", []))),
        audience_added=tuple(
            n for n in after.get("audience", []) if n not in before.get("audience", [])
        ),
        audience_removed=tuple(
            n for n in before.get("audience", []) if n not in after.get("audience", [])
        ),
        moved=tuple(_moved(before.get("timeline", []), after.get("timeline", []))),
    )


def _words(before: list[dict[str, str]], after: list[dict[str, str]]) -> list[WordChange]:
    old = {m.get("label", ""): m for m in before}
    found = []
    for message in after:
        label = message.get("label", "")
        was = old.get(label, {})
        for key, name in FIELDS:
            if was.get(key, "") != message.get(key, ""):
                found.append(WordChange(label, name, lines(was.get(key, ""), message.get(key, ""))))
    return found


def _moved(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[Moved]:
    old = {t.get("label", ""): t.get("at") for t in before}
    new = {t.get("label", ""): t.get("at") for t in after}
    return [
        Moved(label, _when(old.get(label)), _when(new.get(label)))
        for label in [*new, *(k for k in old if k not in new)]
        if old.get(label) != new.get(label)
    ]
