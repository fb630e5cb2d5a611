"""A consultation's timeline: its launch, reminders and close notice, placed by the rules.

- The launch goes at the opening, moved to the next allowed moment.
- A reminder goes a given time before the close (exactly), or, for the defaults, in the
  morning (09:00) of the day that many days before the closing day: 14 days, 7 days and
  the last day itself. It is moved to the previous allowed moment, never after the
  close; one that would then go before the launch is dropped, with the reason.
- The close notice goes a given time after the close, or by default at 09:00 on the
  next sending day, moved to the next allowed moment.

``plan`` is pure: the consultation's times and the rules in, the planned sends out,
each with where it was asked for, where it goes and why it moved. The services store
the result; the timeline page and ``mailer consultation show`` print it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from scheduler.rules import Rules

LAUNCH = "launch"
REMINDER = "reminder"
CLOSE_NOTICE = "close_notice"
KINDS = (LAUNCH, REMINDER, CLOSE_NOTICE)

MORNING = time(9, 0)
BEFORE_OPENING = "it falls before the opening"


class TimelineError(ValueError):
    """The times asked for cannot make a timeline (the reason is for the person)."""


@dataclass(frozen=True)
class ReminderSpec:
    before: timedelta
    # True: at 09:00 on the day ``before.days`` days before the closing day (the
    # defaults); False: exactly ``before`` before the close (what --reminder gives).
    morning: bool = False

    @property
    def slot(self) -> str:
        """Names this reminder on a stored timeline, so a re-plan finds its send."""
        return (
            f"reminder:{int(self.before.total_seconds())}:{'morning' if self.morning else 'exact'}"
        )

    def label(self) -> str:
        if self.morning:
            days = self.before.days
            if days == 0:
                return "Reminder: the morning of the last day"
            return f"Reminder: {days} days before the close"
        return f"Reminder: {_duration(self.before)} before the close"


DEFAULT_REMINDERS = (
    ReminderSpec(timedelta(days=14), morning=True),
    ReminderSpec(timedelta(days=7), morning=True),
    ReminderSpec(timedelta(0), morning=True),
)


@dataclass(frozen=True)
class PlannedSend:
    kind: str
    label: str
    planned_at: datetime  # where the timeline asked for it (UTC)
    due_at: datetime | None  # where the rules put it; None when it will not go
    reasons: tuple[str, ...] = ()  # why it moved
    dropped: str = ""  # why it will not go
    slot: str = ""  # which send of the timeline this is (LAUNCH, CLOSE_NOTICE, spec.slot)


def plan(
    *,
    opens_at: datetime,
    closes_at: datetime,
    rules: Rules,
    reminders: Sequence[ReminderSpec] = DEFAULT_REMINDERS,
    close_notice_after: timedelta | None = None,
) -> list[PlannedSend]:
    """The sends of a consultation open from ``opens_at`` until ``closes_at``."""
    if opens_at.tzinfo is None or closes_at.tzinfo is None:
        raise TimelineError("the opening and closing times need a timezone")
    if closes_at <= opens_at:
        raise TimelineError("the consultation must close after it opens")
    launch = rules.later(opens_at)
    if launch.at >= closes_at:
        raise TimelineError(
            "the launch would be moved past the close "
            f"({'; '.join(launch.reasons)}); open earlier or close later"
        )
    planned = [PlannedSend(LAUNCH, "Launch", opens_at, launch.at, launch.reasons, slot=LAUNCH)]

    taken: set[datetime] = {launch.at}
    for spec in sorted(reminders, key=lambda s: s.before, reverse=True):
        reminder = _reminder(spec, opens_at=opens_at, closes_at=closes_at, rules=rules)
        if (due := reminder.due_at) is not None:
            if due <= launch.at:
                reminder = _drop(reminder, "it would go before the launch")
            elif due in taken:
                reminder = _drop(reminder, "another send already goes at that moment")
            else:
                taken.add(due)
        planned.append(reminder)

    if close_notice_after is None:
        last_day = rules.local(closes_at).date()
        asked = rules.at_local(rules.next_sending_day(last_day), MORNING)
        label = "Close notice: the next working day"
    else:
        asked = rules.days_after(closes_at, close_notice_after)
        label = f"Close notice: {_duration(close_notice_after)} after the close"
    notice = rules.later(asked)
    planned.append(
        PlannedSend(CLOSE_NOTICE, label, asked, notice.at, notice.reasons, slot=CLOSE_NOTICE)
    )
    return sorted(planned, key=lambda p: (p.due_at or p.planned_at, KINDS.index(p.kind)))


def _reminder(
    spec: ReminderSpec, *, opens_at: datetime, closes_at: datetime, rules: Rules
) -> PlannedSend:
    if spec.morning:
        day = rules.local(closes_at).date() - timedelta(days=spec.before.days)
        asked = rules.at_local(day, MORNING)
    else:
        asked = rules.days_before(closes_at, spec.before)
    label = spec.label()
    if asked < opens_at:
        return PlannedSend(REMINDER, label, asked, None, dropped=BEFORE_OPENING, slot=spec.slot)
    if asked >= closes_at:
        return PlannedSend(
            REMINDER, label, asked, None, dropped="it falls after the close", slot=spec.slot
        )
    moved = rules.earlier(asked)
    return PlannedSend(REMINDER, label, asked, moved.at, moved.reasons, slot=spec.slot)


def _drop(send: PlannedSend, why: str) -> PlannedSend:
    moved = f" ({'; '.join(send.reasons)})" if send.reasons else ""
    return PlannedSend(
        send.kind, send.label, send.planned_at, None, send.reasons, why + moved, send.slot
    )


def _duration(delta: timedelta) -> str:
    """A duration as a person writes it: "14 days", "2 hours", "90 seconds"."""
    seconds = int(delta.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
