"""A consultation's timeline: launch, reminders and close notice under the office's rules."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from scheduler.rules import Rules
from scheduler.timeline import (
    CLOSE_NOTICE,
    LAUNCH,
    REMINDER,
    ReminderSpec,
    TimelineError,
    plan,
)
from tests.scheduler.helpers import LONDON, local, shown


def rows(timeline):  # type: ignore[no-untyped-def]
    return [(p.kind, shown(p.due_at) if p.due_at else None, p.dropped or None) for p in timeline]


def test_the_seed_consultation_gets_every_send_on_a_working_day(office: Rules) -> None:
    # Opens on a Monday, closes at 23:59 on Sunday 15 August 2027.
    timeline = plan(
        opens_at=local("2027-06-21 10:00"), closes_at=local("2027-08-15 23:59"), rules=office
    )
    assert rows(timeline) == [
        (LAUNCH, "Mon 2027-06-21 10:00", None),
        (REMINDER, "Fri 2027-07-30 09:00", None),  # 14 days before: Sunday 1 August
        (REMINDER, "Fri 2027-08-06 09:00", None),  # 7 days before: Sunday 8 August
        (REMINDER, "Fri 2027-08-13 09:00", None),  # the last day is a Sunday
        (CLOSE_NOTICE, "Mon 2027-08-16 09:00", None),
    ]
    last = timeline[3]
    assert shown(last.planned_at) == "Sun 2027-08-15 09:00" and last.reasons == (
        "moved from Sunday to Friday 9am: no messages at weekends",
    )
    assert last.label == "Reminder: the morning of the last day"


def test_a_launch_in_quiet_hours_and_a_close_before_a_bank_holiday(office: Rules) -> None:
    timeline = plan(
        opens_at=local("2027-05-04 22:00"), closes_at=local("2027-08-27 23:59"), rules=office
    )
    launch, notice = timeline[0], timeline[-1]
    assert shown(launch.due_at) == "Wed 2027-05-05 08:00"
    assert launch.reasons == ("moved out of quiet hours (8pm to 8am)",)
    # Friday close; Monday 30 August is the late summer bank holiday.
    assert shown(notice.due_at) == "Tue 2027-08-31 09:00"


def test_given_reminders_are_exact_and_one_before_the_opening_is_dropped(office: Rules) -> None:
    anything_goes = Rules(timezone=LONDON)
    timeline = plan(
        opens_at=local("2027-03-10 10:00:00"),
        closes_at=local("2027-03-10 10:01:00"),
        rules=anything_goes,
        reminders=[ReminderSpec(timedelta(seconds=30)), ReminderSpec(timedelta(minutes=5))],
        close_notice_after=timedelta(seconds=10),
    )
    assert [(p.kind, p.due_at, p.dropped or None) for p in timeline] == [
        (REMINDER, None, "it falls before the opening"),
        (LAUNCH, local("2027-03-10 10:00:00"), None),
        (REMINDER, local("2027-03-10 10:00:30"), None),
        (CLOSE_NOTICE, local("2027-03-10 10:01:10"), None),
    ]
    assert timeline[2].label == "Reminder: 30 seconds before the close"


def test_a_reminder_moved_back_before_the_launch_is_dropped_with_the_reason(
    office: Rules,
) -> None:
    # Opens Friday 10:00, closes Monday 23:59: the last-day reminder (Monday 09:00) is
    # fine, the 7-day one falls before the opening, and "3 days before" (Friday 23:59)
    # moves back to Friday 19:59, after the launch.
    timeline = plan(
        opens_at=local("2027-03-12 10:00"),
        closes_at=local("2027-03-15 23:59"),
        rules=office,
        reminders=[
            ReminderSpec(timedelta(days=7), morning=True),
            ReminderSpec(timedelta(days=3)),
            ReminderSpec(timedelta(0), morning=True),
        ],
    )
    assert rows(timeline) == [
        (REMINDER, None, "it falls before the opening"),
        (LAUNCH, "Fri 2027-03-12 10:00", None),
        (REMINDER, "Fri 2027-03-12 19:59", None),
        (REMINDER, "Mon 2027-03-15 09:00", None),
        (CLOSE_NOTICE, "Tue 2027-03-16 09:00", None),
    ]
    # Opening on Saturday: the launch waits until Monday 08:00, and a reminder due on
    # Saturday at 11:59 moves back to Friday, before the launch: dropped.
    later = plan(
        opens_at=local("2027-03-13 10:00"),
        closes_at=local("2027-03-15 23:59"),
        rules=office,
        reminders=[ReminderSpec(timedelta(days=2, hours=12))],
    )
    dropped = next(p for p in later if p.kind == REMINDER)
    assert dropped.due_at is None
    assert dropped.dropped.startswith(
        "it would go before the launch (moved from Saturday to Friday"
    )


def test_a_reminder_on_the_last_morning_after_an_early_close_is_dropped(office: Rules) -> None:
    timeline = plan(
        opens_at=local("2027-03-01 10:00"), closes_at=local("2027-03-10 08:30"), rules=office
    )
    last = [p for p in timeline if p.kind == REMINDER][-1]
    assert last.dropped == "it falls after the close"


def test_a_close_before_the_first_allowed_launch_is_refused(office: Rules) -> None:
    with pytest.raises(TimelineError, match="launch would be moved past the close"):
        plan(opens_at=local("2027-03-13 10:00"), closes_at=local("2027-03-14 23:59"), rules=office)
    with pytest.raises(TimelineError, match="close after it opens"):
        plan(opens_at=local("2027-03-13 10:00"), closes_at=local("2027-03-13 10:00"), rules=office)


def test_the_october_clock_change_keeps_reminders_at_nine_local(office: Rules) -> None:
    # Closes Friday 5 November 2027; clocks went back on Sunday 31 October.
    timeline = plan(
        opens_at=local("2027-10-01 10:00"), closes_at=local("2027-11-05 23:59"), rules=office
    )
    reminders = [p.due_at for p in timeline if p.kind == REMINDER]
    assert [shown(r) for r in reminders] == [
        "Fri 2027-10-22 09:00",
        "Fri 2027-10-29 09:00",
        "Fri 2027-11-05 09:00",
    ]
    assert [r.astimezone(LONDON).utcoffset() for r in reminders] == [
        timedelta(hours=1),
        timedelta(hours=1),
        timedelta(0),
    ]


def test_times_without_a_timezone_are_refused(office: Rules) -> None:
    with pytest.raises(TimelineError, match="need a timezone"):
        plan(opens_at=datetime(2027, 3, 1, 10), closes_at=local("2027-03-10 23:59"), rules=office)
