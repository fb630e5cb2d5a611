"""Times as people read them: the one formatter and the template filters built on it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from flask import Flask, render_template_string

from mailer import humane_time

LONDON = ZoneInfo("Europe/London")


def test_the_issue_example_reads_as_a_person_says_it() -> None:
    moment = datetime(2026, 12, 1, 3, 20, 23, 93612, tzinfo=UTC)
    assert humane_time.when(moment, LONDON) == "Tuesday 1 December 2026, 3:20am"
    assert humane_time.day(moment, LONDON) == "Tuesday 1 December 2026"
    assert humane_time.iso(moment) == "2026-12-01T03:20:23Z"


@pytest.mark.parametrize(
    ("clock", "said"),
    [
        (time(0, 0), "midnight"),
        (time(0, 5), "12:05am"),
        (time(9, 0), "9am"),
        (time(11, 59), "11:59am"),
        (time(12, 0), "midday"),
        (time(12, 30), "12:30pm"),
        (time(13, 0), "1pm"),
        (time(23, 59), "11:59pm"),
    ],
)
def test_the_twelve_hour_clock_with_midnight_and_midday_in_words(clock: time, said: str) -> None:
    assert humane_time.clock(clock) == said


def test_midnight_says_which_midnight() -> None:
    start = datetime(2027, 1, 5, 0, 0, tzinfo=UTC)  # GMT in January: London is UTC
    assert humane_time.when(start, LONDON) == "Tuesday 5 January 2027, midnight (start of the day)"


def test_summer_times_are_said_in_bst_and_winter_ones_in_gmt() -> None:
    # The clocks go forward on 28 March 2027 at 01:00 UTC.
    assert humane_time.when(datetime(2027, 3, 28, 0, 30, tzinfo=UTC), LONDON) == (
        "Sunday 28 March 2027, 12:30am"
    )
    assert humane_time.when(datetime(2027, 3, 28, 1, 30, tzinfo=UTC), LONDON) == (
        "Sunday 28 March 2027, 2:30am"
    )
    # Summer: 08:00 UTC is 9am in London (the "was due 2027-07-05 08:00 UTC" of the issue).
    assert humane_time.when(datetime(2027, 7, 5, 8, 0, tzinfo=UTC), LONDON) == (
        "Monday 5 July 2027, 9am"
    )
    # A late evening in summer is already the next day in UTC terms, not in London's.
    assert humane_time.day(datetime(2027, 7, 5, 23, 30, tzinfo=UTC), LONDON) == (
        "Tuesday 6 July 2027"
    )


def test_a_naive_moment_is_utc_and_an_aware_one_keeps_its_zone() -> None:
    naive = datetime(2027, 7, 5, 8, 0)
    assert humane_time.when(naive, LONDON) == "Monday 5 July 2027, 9am"
    paris = datetime(2027, 7, 5, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
    assert humane_time.when(paris, LONDON) == "Monday 5 July 2027, 9am"
    assert humane_time.iso(naive) == humane_time.iso(paris) == "2027-07-05T08:00:00Z"


def test_iso_text_and_dates_are_read_too() -> None:
    assert humane_time.when("2026-12-01T03:20:23.093612Z", LONDON) == (
        "Tuesday 1 December 2026, 3:20am"
    )
    assert humane_time.when(date(2026, 12, 25), LONDON) == "Friday 25 December 2026"
    assert humane_time.iso(date(2026, 12, 25)) == "2026-12-25"


def test_seconds_when_they_matter() -> None:
    moment = datetime(2026, 12, 1, 15, 20, 7, tzinfo=UTC)
    assert humane_time.when(moment, LONDON, seconds=True) == "Tuesday 1 December 2026, 3:20:07pm"
    assert humane_time.clock(time(0, 0, 3), seconds=True) == "12:00:03am"


def test_a_span_of_hours() -> None:
    assert humane_time.hours(time(21, 0), time(8, 0)) == "9pm to 8am"


def test_the_filters_wrap_words_in_a_time_element(app: Flask) -> None:
    moment = datetime(2026, 12, 1, 3, 20, 23, 93612, tzinfo=UTC)
    with app.test_request_context():
        shown = render_template_string(
            "{{ m | when }}|{{ m | on_day }}|{{ m | when_text }}|{{ none | when }}"
            "|{{ m | datetime }}",
            m=moment,
            none=None,
        )
    assert shown == (
        '<time datetime="2026-12-01T03:20:23Z">Tuesday 1 December 2026, 3:20am</time>|'
        '<time datetime="2026-12-01T03:20:23Z">Tuesday 1 December 2026</time>|'
        "Tuesday 1 December 2026, 3:20am||Tuesday 1 December 2026, 3:20am"
    )


def test_reasons_kept_from_before_are_said_in_words_too(app: Flask) -> None:
    stored = [
        "Sunday",
        "Saturday",
        "quiet hours 20:00-08:00",
        "sent late at a@example.org's request (was due 2027-07-05 08:00 UTC)",
        "blackout: By-election",
    ]
    with app.test_request_context():
        shown = render_template_string("{{ r | reasons }}", r=stored)
    assert shown == (
        "no messages at weekends; moved out of quiet hours (8pm to 8am); "
        "sent late at a@example.org&#39;s request (was due Monday 5 July 2027, 9am); "
        "blackout: By-election"
    )
