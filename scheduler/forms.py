"""The consultation form and the blackout form as a browser posts them: read into what
the services take. Reading only: whether what was written is right is the services'
to say (scheduler/consultations/details.py, scheduler/blackouts.py)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from werkzeug.datastructures import MultiDict

from mailer.config import format_duration, parse_duration
from scheduler.consultations.details import Details
from scheduler.consultations.planning import reminder_specs
from scheduler.models import TYPE_GENERAL, Consultation
from scheduler.timeline import DEFAULT_REMINDERS, ReminderSpec

REMINDER_CHOICES = [(spec.slot, spec.label()) for spec in DEFAULT_REMINDERS]
UNREADABLE_DATE = "Give a date (and time) such as 14/03/2027 09:00."


# What a browser posted (werkzeug's form dictionary; a list per field name).
Form = MultiDict[str, str]


def parse_local(day: str, clock: str, *, zone: tzinfo) -> datetime | None:
    """A date and a time of day in the office's zone; None when either cannot be read."""
    try:
        return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock or "00:00"), zone)
    except ValueError:
        return None


def consultation_details(form: Form, *, zone: tzinfo) -> tuple[Details, dict[str, Any]]:
    """What the form says, as the service checks it, and the raw values to show again."""
    raw: dict[str, Any] = {
        "title": form.get("title", ""),
        "summary": form.get("summary", ""),
        "type": form.get("type", TYPE_GENERAL),
        "opens_date": form.get("opens_date", ""),
        "opens_time": form.get("opens_time", "09:00"),
        "closes_date": form.get("closes_date", ""),
        "closes_time": form.get("closes_time", "23:59"),
        "survey_url": form.get("survey_url", ""),
        "lists": [int(v) for v in form.getlist("lists") if v.isdigit()],
        "organisation_types": [int(v) for v in form.getlist("organisation_types") if v.isdigit()],
        "reminder_defaults": form.getlist("reminder_defaults"),
        "reminders_extra": form.get("reminders_extra", ""),
        "close_notice_after": form.get("close_notice_after", ""),
        "late_joiners": form.get("late_joiners") == "on",
        "skip_responders": form.get("skip_responders") == "on",
        "launch_body": form.get("launch_body", ""),
    }
    unreadable: dict[str, str] = {}
    opens = parse_local(raw["opens_date"], raw["opens_time"], zone=zone)
    if opens is None:
        unreadable["opens_at"] = UNREADABLE_DATE
    closes = parse_local(raw["closes_date"], raw["closes_time"], zone=zone)
    if closes is None:
        unreadable["closes_at"] = UNREADABLE_DATE
    reminders = [s for s in DEFAULT_REMINDERS if s.slot in raw["reminder_defaults"]]
    unread: list[str] = []
    for text in raw["reminders_extra"].replace(";", ",").split(","):
        if text.strip():
            try:
                reminders.append(ReminderSpec(parse_duration(text.strip())))
            except ValueError:
                unread.append(repr(text.strip()))
    if unread:
        # Every one named at once, not the last one read.
        unreadable["reminders"] = (
            f"{' and '.join(unread)} {'is' if len(unread) == 1 else 'are'} not "
            f"{'a time' if len(unread) == 1 else 'times'} before the close; "
            "write 3d, 36h or 90m."
        )
    notice = None
    if raw["close_notice_after"].strip():
        try:
            notice = parse_duration(raw["close_notice_after"].strip())
        except ValueError:
            unreadable["close_notice_after"] = "Write a time after the close such as 2d or 12h."
    details = Details(
        title=raw["title"],
        opens_at=opens,
        closes_at=closes,
        survey_url=raw["survey_url"],
        summary=raw["summary"],
        type=raw["type"],
        lists=tuple(raw["lists"]),
        organisation_types=tuple(raw["organisation_types"]),
        reminders=tuple(reminders),
        close_notice_after=notice,
        late_joiners=raw["late_joiners"],
        skip_responders=raw["skip_responders"],
        launch_body=raw["launch_body"],
        unreadable=unreadable,
    )
    return details, raw


# The consultation form's fields in the order the page shows them; an error summary
# lists its problems in this order, each linking to the field it is about (FIELD_ANCHORS
# where the field's first input is not named like the field).
FIELD_ORDER = (
    "title",
    "summary",
    "type",
    "opens_at",
    "closes_at",
    "survey_url",
    "lists",
    "organisation_types",
    "reminders",
    "close_notice_after",
    "launch_body",
)
FIELD_ANCHORS = {
    "opens_at": "opens_date",
    "closes_at": "closes_date",
    "organisation_types": "lists",
}


def in_form_order(errors: dict[str, str]) -> dict[str, str]:
    """``errors`` in the order of the form's fields (any other last)."""
    rank = {name: place for place, name in enumerate(FIELD_ORDER)}
    return dict(sorted(errors.items(), key=lambda item: rank.get(item[0], len(rank))))


def consultation_values(
    consultation: Consultation | None, *, zone: tzinfo, now: datetime
) -> dict[str, Any]:
    """The raw values the form starts with: a consultation's, or a new one's."""
    if consultation is None:
        start = (now.astimezone(zone) + timedelta(days=7)).date()
        return {
            "title": "",
            "summary": "",
            "type": TYPE_GENERAL,
            "opens_date": start.isoformat(),
            "opens_time": "09:00",
            "closes_date": (start + timedelta(days=42)).isoformat(),
            "closes_time": "23:59",
            "survey_url": "",
            "lists": [],
            "organisation_types": [],
            "reminder_defaults": [s.slot for s in DEFAULT_REMINDERS],
            "reminders_extra": "",
            "close_notice_after": "",
            "late_joiners": True,
            "skip_responders": False,
            "launch_body": "",
        }
    specs = reminder_specs(consultation)
    opens = consultation.opens_at.astimezone(zone)
    closes = consultation.closes_at.astimezone(zone)
    after = consultation.close_notice_after
    return {
        "title": consultation.title,
        "summary": consultation.summary,
        "type": consultation.type,
        "opens_date": opens.date().isoformat(),
        "opens_time": opens.strftime("%H:%M"),
        "closes_date": closes.date().isoformat(),
        "closes_time": closes.strftime("%H:%M"),
        "survey_url": consultation.survey_url,
        "lists": list(consultation.audience.get("lists", [])),
        "organisation_types": list(consultation.audience.get("organisation_types", [])),
        "reminder_defaults": [s.slot for s in specs if s.morning],
        "reminders_extra": ", ".join(format_duration(s.before) for s in specs if not s.morning),
        "close_notice_after": "" if after is None else format_duration(timedelta(seconds=after)),
        "late_joiners": consultation.late_joiners,
        "skip_responders": consultation.skip_responders,
        "launch_body": "",
    }


def blackout_times(
    form: Form, *, zone: tzinfo
) -> tuple[datetime | None, datetime | None, dict[str, str]]:
    """The blackout form's start and end (None for one that cannot be read), and what
    to write instead, per field."""
    starts = parse_local(form.get("starts_date", ""), form.get("starts_time", "00:00"), zone=zone)
    ends = parse_local(form.get("ends_date", ""), form.get("ends_time", "00:00"), zone=zone)
    unreadable = {
        name: UNREADABLE_DATE for name, t in (("starts", starts), ("ends", ends)) if t is None
    }
    return starts, ends, unreadable
