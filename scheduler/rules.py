"""When sending is allowed: quiet hours, weekends, bank holidays and blackout periods.

A moment that falls where sending is not allowed is moved: a launch or close notice to
the next allowed moment, a reminder to the previous one (a reminder sent after the
deadline it reminds of is worse than none). Every move carries the reasons, so the
timeline can say why a send is not at its planned time.

Pure: the rules are data, the moments are given; nothing here reads a clock.
All moments are aware datetimes; days, quiet hours and holidays are judged in the
configured timezone, so clock changes fall where the calendar puts them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from mailer import humane_time
from mailer.config import Config, QuietHours

# Bank holiday calendars, by the name [scheduler] holidays uses (python-holidays).
_SUBDIVISIONS = {"england-and-wales": "ENG", "scotland": "SCT", "northern-ireland": "NIR"}
# Moving a moment back out of a closed window lands this long before the window opens.
BEFORE_WINDOW = timedelta(minutes=1)
_MAX_MOVES = 1000  # a year of closed days is far fewer; guards against a loop
# What closes a moment, for putting the reasons of a move in words.
BLACKOUT, HOLIDAY, WEEKEND, QUIET = "blackout", "holiday", "weekend", "quiet"
NO_WEEKENDS = "no messages at weekends"


@dataclass(frozen=True)
class Blackout:
    """A period in which nothing is sent (a pre-election period, say)."""

    starts_at: datetime
    ends_at: datetime
    reason: str

    def __post_init__(self) -> None:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("a blackout's start and end need a timezone")
        if self.ends_at <= self.starts_at:
            zone = self.starts_at.tzinfo  # said in the zone they were given in (the form's)
            raise ValueError(
                f'the blackout "{self.reason}" must end after it starts '
                f"({humane_time.when(self.starts_at, zone)} to "
                f"{humane_time.when(self.ends_at, zone)})"
            )

    def __contains__(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at


class NoAllowedTime(Exception):
    """The rules leave no moment to send in (every day closed, for a year)."""


@dataclass(frozen=True)
class Moved:
    """Where a moment ended up, and why it is not where it was asked for."""

    asked: datetime
    at: datetime
    reasons: tuple[str, ...] = ()

    @property
    def moved(self) -> bool:
        return self.at != self.asked


def holiday_calendar(name: str) -> Callable[[date], str | None]:
    """The bank holiday name for a date (None on an ordinary day) in that calendar."""
    if not name:
        return lambda _day: None
    import holidays

    calendar = holidays.country_holidays("GB", subdiv=_SUBDIVISIONS[name])
    return lambda day: calendar.get(day)


@dataclass(frozen=True)
class Rules:
    timezone: ZoneInfo
    quiet_hours: QuietHours | None = None
    send_on_weekends: bool = True
    holiday: Callable[[date], str | None] = field(default=lambda _day: None)
    blackouts: tuple[Blackout, ...] = ()

    @classmethod
    def from_config(cls, config: Config, *, blackouts: tuple[Blackout, ...] = ()) -> Rules:
        scheduler = config.scheduler
        return cls(
            timezone=config.app.tz,
            quiet_hours=scheduler.quiet_hours,
            send_on_weekends=scheduler.send_on_weekends,
            holiday=holiday_calendar(scheduler.holidays),
            blackouts=blackouts,
        )

    # --- judging one moment ----------------------------------------------------------

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.timezone)

    def closed_day(self, day: date) -> str | None:
        """Why nothing is sent on this (local) day, or None when it is a sending day."""
        cause = self._closed_day(day)
        return None if cause is None else cause[1]

    def _closed_day(self, day: date) -> tuple[str, str] | None:
        name = self.holiday(day)
        if name:
            return HOLIDAY, f"bank holiday ({name})"
        if not self.send_on_weekends and day.weekday() >= 5:
            return WEEKEND, NO_WEEKENDS
        return None

    def why_not(self, moment: datetime) -> str | None:
        """Why nothing may be sent at this moment, in words, or None when it may."""
        cause = self._cause(moment)
        return None if cause is None else cause[1]

    def _cause(self, moment: datetime) -> tuple[str, str] | None:
        for blackout in self.blackouts:
            if moment in blackout:
                return BLACKOUT, f"blackout: {blackout.reason}"
        local = self.local(moment)
        closed = self._closed_day(local.date())
        if closed:
            return closed
        if self.quiet_hours is not None and self.quiet_hours.contains(local.time()):
            return QUIET, f"quiet hours ({humane_time.hours(*self.quiet_window)})"
        return None

    @property
    def quiet_window(self) -> tuple[time, time]:
        assert self.quiet_hours is not None
        return self.quiet_hours.start, self.quiet_hours.end

    # --- moving a moment -------------------------------------------------------------

    def at_local(self, day: date, clock: time) -> datetime:
        """That wall-clock time on that day, as UTC. A time the spring clock change
        skips counts as the hour before it (PEP 495, fold 0): 01:30 is 02:30 BST."""
        return datetime.combine(day, clock, tzinfo=self.timezone).astimezone(UTC)

    def later(self, moment: datetime) -> Moved:
        """The first allowed moment at or after ``moment``."""
        return self._move(moment, self._forward, "after")

    def earlier(self, moment: datetime) -> Moved:
        """The last allowed moment at or before ``moment``."""
        return self._move(moment, self._back, "before")

    def _move(
        self, moment: datetime, step: Callable[[datetime], datetime], direction: str
    ) -> Moved:
        if moment.tzinfo is None:
            raise ValueError(f"{moment} has no timezone; the rules need an exact moment")
        at, causes = moment, list[tuple[str, str, datetime]]()
        for _ in range(_MAX_MOVES):
            cause = self._cause(at)
            if cause is None:
                return Moved(moment, at, self._in_words(moment, at, causes))
            causes.append((*cause, at))
            at = step(at)
        raise NoAllowedTime(
            f"no allowed moment {direction} {humane_time.when(moment, self.timezone)}"
        )

    def _forward(self, at: datetime) -> datetime:
        for blackout in self.blackouts:
            if at in blackout:
                return blackout.ends_at
        local = self.local(at)
        if self.closed_day(local.date()):
            return self.at_local(local.date() + timedelta(days=1), time(0, 0))
        quiet = self.quiet_hours
        assert quiet is not None  # why_not: neither a blackout nor a closed day
        day = local.date() if local.time() < quiet.end else local.date() + timedelta(days=1)
        return self.at_local(day, quiet.end)

    def _back(self, at: datetime) -> datetime:
        for blackout in self.blackouts:
            if at in blackout:
                return blackout.starts_at - BEFORE_WINDOW
        local = self.local(at)
        if self.closed_day(local.date()):
            # The sending day before, at the same time of day: a reminder planned for
            # Sunday morning goes on Friday morning, not on Friday night.
            return self.at_local(local.date() - timedelta(days=1), local.time())
        quiet = self.quiet_hours
        assert quiet is not None  # why_not: neither a blackout nor a closed day
        day = local.date() if local.time() >= quiet.start else local.date() - timedelta(days=1)
        return self.at_local(day, quiet.start) - BEFORE_WINDOW

    def _in_words(
        self, asked: datetime, at: datetime, causes: list[tuple[str, str, datetime]]
    ) -> tuple[str, ...]:
        """Why a moment moved, once per cause, in words a person reads.

        Landing at the start of a day after a weekend or a holiday passes through the
        quiet hours; that is the move's mechanics, not a reason, so it is not said.
        """
        weekends = [moment for kind, _words, moment in causes if kind == WEEKEND]
        only_weekends = all(kind in (WEEKEND, QUIET) for kind, _words, _at in causes)
        words: list[str] = []
        previous = ""
        for kind, said, _moment in causes:
            if kind == QUIET and previous in (WEEKEND, HOLIDAY):
                pass
            elif kind == QUIET:
                words.append(f"moved out of {said}")
            elif kind == WEEKEND and only_weekends:
                landed = self.local(at)
                words.append(
                    f"moved from {self.local(weekends[0]):%A} to {landed:%A} "
                    f"{humane_time.clock(landed.time())}: {NO_WEEKENDS}"
                )
            elif kind == WEEKEND:
                words.append(NO_WEEKENDS)
            else:
                words.append(said)
            previous = kind
        return tuple(dict.fromkeys(words))

    # --- calendar arithmetic ---------------------------------------------------------

    def days_before(self, moment: datetime, delta: timedelta) -> datetime:
        """``moment - delta``, whole days counted on the calendar (14 days before 23:59
        is 23:59, across a clock change too), the rest of it in elapsed time."""
        return self._calendar_shift(moment, -delta)

    def days_after(self, moment: datetime, delta: timedelta) -> datetime:
        return self._calendar_shift(moment, delta)

    def _calendar_shift(self, moment: datetime, delta: timedelta) -> datetime:
        whole_days = timedelta(days=abs(delta).days)
        rest = abs(delta) - whole_days
        sign = 1 if delta >= timedelta(0) else -1
        local = self.local(moment)
        wall = local.replace(tzinfo=None) + sign * whole_days
        return wall.replace(tzinfo=self.timezone).astimezone(UTC) + sign * rest

    def next_sending_day(self, day: date) -> date:
        """The first day after ``day`` that is not a weekend (unless allowed) or a bank
        holiday."""
        candidate = day + timedelta(days=1)
        for _ in range(_MAX_MOVES):
            if not self.closed_day(candidate):
                return candidate
            candidate += timedelta(days=1)
        raise NoAllowedTime(f"no sending day after {day}")
