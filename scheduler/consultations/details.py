"""What a consultation is made of, and the check of it: the form or ``mailer
consultation create`` gives Details; ``check`` reads it against the sending rules and
returns the values to store and the timeline they make, or one error per field.

The refusals every consultation service raises live here too."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts.models import ContactList, OrganisationType
from mailer import humane_time
from mailer.organisation.service import check_url
from mailer.rendering.mime import one_line
from scheduler.models import (
    TYPE_GENERAL,
    TYPE_LABELS,
    Consultation,
)
from scheduler.rules import Rules
from scheduler.timeline import (
    BEFORE_OPENING,
    DEFAULT_REMINDERS,
    PlannedSend,
    ReminderSpec,
    TimelineError,
    plan,
)

MAX_TITLE = 300
MAX_SUMMARY = 5000
# An opening a moment ago is "now" (a form filled in slowly), not a time in the past.
OPENING_SLACK = timedelta(minutes=5)


class ConsultationInvalid(Exception):
    """Field name -> what is wrong with it, for the form or the command line."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class ConsultationRefused(Exception):
    """The step does not fit the consultation's state or the person; says why."""


class NeedsConfirmation(Exception):
    """The edit would return an approved timeline to approval: ask first."""


@dataclass(frozen=True)
class Details:
    """What the form or ``mailer consultation create`` gives.

    A time is None when what was written could not be read as one; ``unreadable``
    then says, per field, what to write instead (the form's reader fills it in)."""

    title: str
    opens_at: datetime | None
    closes_at: datetime | None
    survey_url: str
    summary: str = ""
    type: str = TYPE_GENERAL
    lists: tuple[int, ...] = ()
    organisation_types: tuple[int, ...] = ()
    reminders: tuple[ReminderSpec, ...] | None = None  # None: the defaults
    close_notice_after: timedelta | None = None
    late_joiners: bool = True
    # With [tracking] per_person: reminders leave out who followed the survey link.
    skip_responders: bool = False
    launch_body: str = ""  # the launch bulletin's words, on creation
    unreadable: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Checked:
    values: dict[str, Any]
    planned: list[PlannedSend]
    warnings: list[str] = field(default_factory=list)


def check(
    session: Session,
    details: Details,
    *,
    rules: Rules,
    now: datetime,
    current: Consultation | None,
) -> Checked:
    """The values to store and the timeline they make; or ConsultationInvalid with one
    sentence per field that is wrong. ``current``: the consultation being edited."""
    if any(t is not None and t.tzinfo is None for t in (details.opens_at, details.closes_at)):
        raise ValueError("opening and closing times need a timezone")
    title = one_line(details.title)
    summary = details.summary.replace("\r\n", "\n").strip()
    survey_url = details.survey_url.strip()
    lists = sorted(set(details.lists))
    types = sorted(set(details.organisation_types))
    reminders = DEFAULT_REMINDERS if details.reminders is None else details.reminders
    found = {
        "title": _title_problem(title),
        "summary": _summary_problem(summary),
        "survey_url": _survey_url_problem(survey_url),
        "type": _type_problem(details.type),
        **_time_problems(details, rules=rules, now=now, current=current),
        "lists": _audience_problem(lists, types)
        or _missing(session, ContactList.id, lists, "No list has the id"),
        "organisation_types": _missing(
            session, OrganisationType.id, types, "No organisation type has the id"
        ),
        "reminders": _reminders_problem(reminders),
    }
    # What could not be read is said first, and rather than a rule about it.
    errors = dict(details.unreadable)
    errors.update({k: v for k, v in found.items() if v and k not in details.unreadable})
    opens_at, closes_at = details.opens_at, details.closes_at
    planned_sends: list[PlannedSend] = []
    warnings: list[str] = []
    # The timeline's own problems are found even when other fields are wrong, so every
    # problem is reported in one round; only times or reminders that are themselves
    # wrong (or unreadable) make no timeline worth checking.
    if (
        opens_at is not None
        and closes_at is not None
        and not {"opens_at", "closes_at", "reminders"} & errors.keys()
    ):
        planned_sends, warnings = _planned(
            opens_at, closes_at, details, reminders, rules=rules, errors=errors
        )
    if errors or opens_at is None or closes_at is None:
        raise ConsultationInvalid(errors)
    values = {
        "title": title,
        "summary": summary,
        "type": details.type,
        "opens_at": opens_at,
        "closes_at": closes_at,
        "survey_url": survey_url,
        "audience": {"lists": lists, "organisation_types": types},
        "reminders": [
            {"before": int(r.before.total_seconds()), "morning": r.morning} for r in reminders
        ],
        "close_notice_after": _seconds(details.close_notice_after),
        "late_joiners": bool(details.late_joiners),
        "skip_responders": bool(details.skip_responders),
    }
    return Checked(values, planned_sends, warnings)


def _title_problem(title: str) -> str | None:
    if not title:
        return "Give the consultation a title."
    if len(title) > MAX_TITLE:
        return f"Use at most {MAX_TITLE} characters."
    return None


def _summary_problem(summary: str) -> str | None:
    if len(summary) > MAX_SUMMARY:
        return f"Keep the summary under {MAX_SUMMARY:,} characters."
    return None


def _survey_url_problem(survey_url: str) -> str | None:
    if not survey_url:
        return "Give the address of the survey people should fill in."
    return check_url(survey_url)


def _type_problem(kind: str) -> str | None:
    return None if kind in TYPE_LABELS else "Choose what kind of consultation this is."


def _time_problems(
    details: Details, *, rules: Rules, now: datetime, current: Consultation | None
) -> dict[str, str | None]:
    """The closing time, then the opening time. An opening kept from before (an edit of
    one already open) may be in the past."""
    opens_at, closes_at = details.opens_at, details.closes_at
    problems: dict[str, str | None] = {}
    if opens_at is None or closes_at is None:
        problems["closes_at"] = None if closes_at else "Give the closing date and time."
        problems["opens_at"] = None if opens_at else "Give the opening date and time."
        return problems
    if closes_at <= now:
        problems["closes_at"] = (
            f"The closing time ({_shown(rules, closes_at)}) has passed; choose a later one."
        )
    elif closes_at <= opens_at:
        problems["closes_at"] = "The consultation must close after it opens."
    opening_kept = current is not None and current.opens_at == opens_at
    if opens_at < now - OPENING_SLACK and not opening_kept:
        problems["opens_at"] = (
            f"The opening time ({_shown(rules, opens_at)}) has passed; choose a time from now on."
        )
    return problems


def _audience_problem(lists: list[int], types: list[int]) -> str | None:
    if not lists and not types:
        return "Choose at least one list or organisation type to send to."
    return None


def _missing(session: Session, column: Any, ids: list[int], sentence: str) -> str | None:
    """``sentence`` naming the ids no row has, or None."""
    if not ids:
        return None
    found = set(session.scalars(select(column).where(column.in_(ids))))
    if missing := [i for i in ids if i not in found]:
        return f"{sentence} {', '.join(map(str, missing))}."
    return None


def _reminders_problem(reminders: Sequence[ReminderSpec]) -> str | None:
    if len({r.slot for r in reminders}) != len(reminders):
        return "The same reminder is given twice."
    return None


def _planned(
    opens_at: datetime,
    closes_at: datetime,
    details: Details,
    reminders: Sequence[ReminderSpec],
    *,
    rules: Rules,
    errors: dict[str, str],
) -> tuple[list[PlannedSend], list[str]]:
    """The timeline the rules give, and a warning for each send left out. What makes
    no timeline goes into ``errors``."""
    try:
        planned_sends = plan(
            opens_at=opens_at,
            closes_at=closes_at,
            rules=rules,
            reminders=reminders,
            close_notice_after=details.close_notice_after,
        )
    except TimelineError as exc:
        errors["closes_at"] = str(exc)[:1].upper() + str(exc)[1:] + "."
        return [], []
    warnings: list[str] = []
    for item in planned_sends:
        if item.due_at is not None:
            continue
        # A reminder asked for as an exact time before the close is an error when it
        # cannot go; a morning one (the defaults, or ticked in the form) is left out.
        if item.dropped == BEFORE_OPENING and item.slot.endswith(":exact"):
            errors["reminders"] = (
                f"{item.label} would go on {_shown(rules, item.planned_at)}, before the "
                "consultation opens; choose a shorter time before the close."
            )
        else:
            warnings.append(f"{item.label} is left out: {item.dropped}.")
    return planned_sends, warnings


def _seconds(span: timedelta | None) -> int | None:
    return None if span is None else int(span.total_seconds())


def _shown(rules: Rules, moment: datetime) -> str:
    return humane_time.when(moment, rules.timezone)
