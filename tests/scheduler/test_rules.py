"""The sending rules: quiet hours, weekends, bank holidays, blackouts and clock changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from mailer.config import from_mapping
from scheduler.rules import Blackout, Rules, holiday_calendar
from tests.scheduler.helpers import LONDON, local, shown


def test_an_allowed_moment_stays_where_it_is(office: Rules) -> None:
    moment = local("2027-03-10 10:00")  # a Wednesday
    assert office.why_not(moment) is None
    assert office.later(moment).at == moment and not office.later(moment).moved
    assert office.earlier(moment).at == moment


def test_quiet_hours_move_a_launch_to_the_morning_and_a_reminder_to_the_evening(
    office: Rules,
) -> None:
    night = local("2027-03-10 21:00")
    assert office.why_not(night) == "quiet hours (8pm to 8am)"
    assert office.later(night).reasons == ("moved out of quiet hours (8pm to 8am)",)
    assert shown(office.later(night).at) == "Thu 2027-03-11 08:00"
    assert shown(office.earlier(night).at) == "Wed 2027-03-10 19:59"
    early = local("2027-03-11 06:30")
    assert shown(office.later(early).at) == "Thu 2027-03-11 08:00"
    assert shown(office.earlier(early).at) == "Wed 2027-03-10 19:59"


def test_a_weekend_moves_forward_to_monday_morning_and_back_to_friday(office: Rules) -> None:
    saturday = local("2027-03-13 10:00")
    later = office.later(saturday)
    assert shown(later.at) == "Mon 2027-03-15 08:00"
    # In words, once: landing at the start of Monday passes through the quiet hours,
    # which is how the move is made, not a reason for it.
    assert later.reasons == ("moved from Saturday to Monday 8am: no messages at weekends",)
    # Back over a weekend keeps the time of day: Sunday morning becomes Friday morning.
    earlier = office.earlier(local("2027-03-14 09:00"))
    assert shown(earlier.at) == "Fri 2027-03-12 09:00"
    assert earlier.reasons == ("moved from Sunday to Friday 9am: no messages at weekends",)


def test_a_night_before_the_weekend_says_both_reasons(office: Rules) -> None:
    friday_night = office.later(local("2027-03-12 22:00"))
    assert shown(friday_night.at) == "Mon 2027-03-15 08:00"
    assert friday_night.reasons == (
        "moved out of quiet hours (8pm to 8am)",
        "moved from Saturday to Monday 8am: no messages at weekends",
    )


def test_christmas_and_the_observed_boxing_day_are_skipped(office: Rules) -> None:
    # 2026: Christmas on a Friday, Boxing Day on Saturday, observed on Monday the 28th.
    moved = office.later(local("2026-12-24 21:00"))
    assert shown(moved.at) == "Tue 2026-12-29 08:00"
    assert "bank holiday (Christmas Day)" in moved.reasons
    assert "bank holiday (Boxing Day (observed))" in moved.reasons
    # Holidays and a weekend together: the weekend is not said to be the whole story.
    assert "no messages at weekends" in moved.reasons
    assert not any(reason.startswith("moved from") for reason in moved.reasons)
    assert shown(office.earlier(local("2026-12-28 09:00")).at) == "Thu 2026-12-24 09:00"


def test_weekends_and_holidays_can_be_allowed() -> None:
    anything_goes = Rules(timezone=LONDON)
    sunday_night = local("2026-12-27 23:30")
    assert anything_goes.later(sunday_night).at == sunday_night
    assert holiday_calendar("")(date(2026, 12, 25)) is None
    assert holiday_calendar("scotland")(date(2027, 1, 2)) is not None  # 2 January
    assert holiday_calendar("england-and-wales")(date(2027, 1, 2)) is None


def test_a_blackout_holds_everything_until_it_ends(office: Rules) -> None:
    purdah = Blackout(local("2027-03-29 00:00"), local("2027-05-07 00:00"), "pre-election period")
    rules = Rules(**{**office.__dict__, "blackouts": (purdah,)})
    launch = rules.later(local("2027-04-12 10:00"))
    # Friday 7 May 00:00 is in quiet hours, so 08:00 that morning.
    assert shown(launch.at) == "Fri 2027-05-07 08:00"
    assert launch.reasons[0] == "blackout: pre-election period"
    reminder = rules.earlier(local("2027-04-12 10:00"))
    # Sunday 28 March 23:59 is a Sunday: back to Friday 26 March (Good Friday) and
    # Thursday 25 March, same time of day, then out of quiet hours.
    assert shown(reminder.at) == "Thu 2027-03-25 19:59"


def test_calendar_days_keep_the_wall_clock_across_clock_changes(office: Rules) -> None:
    # Clocks go back on Sunday 31 October 2027: seven days before 23:59 on Wednesday
    # 3 November is 23:59 on Wednesday 27 October, seven days and an hour earlier.
    close = local("2027-11-03 23:59")
    before = office.days_before(close, timedelta(days=7))
    assert shown(before) == "Wed 2027-10-27 23:59"
    assert close - before == timedelta(days=7, hours=1)
    # ...and forward across the March change (Sunday 28 March 2027).
    after = office.days_after(local("2027-03-26 09:00"), timedelta(days=3, hours=1))
    assert shown(after) == "Mon 2027-03-29 10:00"


def test_a_time_the_spring_change_skips_counts_as_the_hour_before(office: Rules) -> None:
    moment = office.at_local(date(2027, 3, 28), time(1, 30))
    assert moment == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    assert shown(moment) == "Sun 2027-03-28 02:30"


def test_the_next_sending_day_skips_weekends_and_holidays(office: Rules) -> None:
    assert office.next_sending_day(date(2027, 3, 25)) == date(2027, 3, 30)  # Easter
    assert office.next_sending_day(date(2027, 3, 10)) == date(2027, 3, 11)


def test_the_rules_come_from_the_scheduler_section_of_the_config() -> None:
    config = from_mapping(
        {"scheduler": {"quiet_hours": "", "send_on_weekends": True, "holidays": "scotland"}},
        environ={},
    )
    rules = Rules.from_config(config)
    assert rules.timezone == LONDON and rules.quiet_hours is None and rules.send_on_weekends
    # Scotland keeps 2 January too; in 2027 it falls on a Saturday, so Monday 4th.
    assert rules.why_not(local("2027-01-04 10:00")) == "bank holiday (New Year Holiday (observed))"


def test_a_blackout_that_ends_before_it_starts_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match='"pre-election period" must end after it starts') as no:
        start = datetime(2027, 5, 7, 9, 0, tzinfo=LONDON)
        Blackout(start, datetime(2027, 3, 29, 0, 0, tzinfo=LONDON), "pre-election period")
    # Said in the zone the form gave, in words, not as UTC.
    assert str(no.value).endswith(
        "(Friday 7 May 2027, 9am to Monday 29 March 2027, midnight (start of the day))"
    )
    with pytest.raises(ValueError, match="need a timezone"):
        Blackout(datetime(2027, 3, 29), datetime(2027, 5, 7), "pre-election period")


def test_a_moment_without_a_timezone_is_refused(office: Rules) -> None:
    with pytest.raises(ValueError, match="has no timezone"):
        office.later(datetime(2027, 3, 10, 21, 0))
