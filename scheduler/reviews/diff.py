"""What changed since the last approved version: the words line by line (subject,
preheader, body), the parts of the audience added or removed, the times moved and a
consultation's own details (survey address, title, dates, documents...). Both sides
are snapshots (snapshots.py); a detail an older snapshot lacks is unknown, not a
change."""

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
# How a detail's value reads: as it is, a moment (said in words by the page), yes/no.
TEXT = "text"
TIME = "time"
YES_NO = "yes_no"
# A consultation's own details, in the order the diff lists them (snapshots.details).
DETAILS = (
    ("title", "Title", TEXT),
    ("type", "Type", TEXT),
    ("survey_url", "Survey address", TEXT),
    ("opens_at", "Opens", TIME),
    ("closes_at", "Closes", TIME),
    ("late_joiners", "Launch sent to people added while it is open", YES_NO),
    ("skip_responders", "Reminders leave out people who followed the survey link", YES_NO),
)
# The summary is prose: compared line by line, like a message's body.
SUMMARY = ("summary", "Summary")
DETAILS_LABEL = "The consultation"


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
class Detail:
    """One of a consultation's own details, before and after. ``kind`` TIME: both are
    ISO times (or "") for the page to say in words."""

    label: str
    was: str
    now: str
    kind: str = TEXT


@dataclass(frozen=True)
class Changes:
    first: bool  # nothing approved before: nothing to compare
    words: tuple[WordChange, ...] = ()
    audience_added: tuple[str, ...] = ()
    audience_removed: tuple[str, ...] = ()
    moved: tuple[Moved, ...] = ()
    details: tuple[Detail, ...] = ()
    documents_added: tuple[str, ...] = ()
    documents_removed: tuple[str, ...] = ()
    # The approval content differs from the approved version's (its hash), whatever
    # the snapshots show: never say "nothing changed" then.
    differs: bool = False

    @property
    def listed(self) -> bool:
        """Some change the diff can name."""
        return bool(
            self.words
            or self.audience_added
            or self.audience_removed
            or self.moved
            or self.details
            or self.documents_added
            or self.documents_removed
        )

    @property
    def none(self) -> bool:
        return not (self.listed or self.differs)


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


def compare(
    before: dict[str, Any] | None, after: dict[str, Any], *, differs: bool = False
) -> Changes:
    """What changed from the approved ``before`` (None: never approved) to ``after``.
    ``differs``: the versions' hashes differ (said even when the snapshots cannot show
    how)."""
    if not before:
        return Changes(first=True)
    was, now = before.get("details"), after.get("details")
    if not (isinstance(was, dict) and isinstance(now, dict)):
        was, now = {}, {}  # an older snapshot: its details are unknown
    old_docs, new_docs = _names(was, "documents"), _names(now, "documents")
    if old_docs is None or new_docs is None:
        old_docs = new_docs = []
    return Changes(
        first=False,
        words=(
            *_summary(was, now),
            *_words(before.get("messages", []), after.get("messages", [])),
        ),
        details=tuple(_details(was, now)),
        documents_added=tuple(n for n in new_docs if n not in old_docs),
        documents_removed=tuple(n for n in old_docs if n not in new_docs),
        differs=differs,
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


def _names(details: dict[str, Any], key: str) -> list[str] | None:
    value = details.get(key)
    return [str(n) for n in value] if isinstance(value, list) else None


def _said(value: Any, kind: str) -> str:
    if kind == YES_NO:
        return "Yes" if value else "No"
    return "" if value is None else str(value)


def _details(was: dict[str, Any], now: dict[str, Any]) -> list[Detail]:
    """Each detail both sides know that differs (a key the older one lacks is unknown)."""
    return [
        Detail(label, _said(was[key], kind), _said(now[key], kind), kind)
        for key, label, kind in DETAILS
        if key in was and key in now and was[key] != now[key]
    ]


def _summary(was: dict[str, Any], now: dict[str, Any]) -> list[WordChange]:
    key, name = SUMMARY
    if key not in was or key not in now or was[key] == now[key]:
        return []
    return [WordChange(DETAILS_LABEL, name, lines(str(was[key] or ""), str(now[key] or "")))]
