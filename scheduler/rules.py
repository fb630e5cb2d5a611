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

from mailer.config import Config, QuietHours

# Bank holiday calendars, by the name [scheduler] holidays uses (python-holidays).
_SUBDIVISIONS = {"england-and-wales": "ENG", "scotland": "SCT", "northern-ireland": "NIR"}
# Moving a moment back out of a closed window lands this long before the window opens.
BEFORE_WINDOW = timedelta(minutes=1)
_MAX_MOVES = 1000  # a year of closed days is far fewer; guards against a loop


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
            raise ValueError(
                f'the blackout "{self.reason}" must end after it starts '
                f"({self.starts_at:%Y-%m-%d %H:%M} to {self.ends_at:%Y-%m-%d %H:%M} UTC)"
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
        name = self.holiday(day)
        if name:
            return f"bank holiday ({name})"
        if not self.send_on_weekends and day.weekday() >= 5:
            return f"{day:%A}"
        return None

    def why_not(self, moment: datetime) -> str | None:
        """Why nothing may be sent at this moment, or None when it may."""
        for blackout in self.blackouts:
            if moment in blackout:
                return f"blackout: {blackout.reason}"
        local = self.local(moment)
        closed = self.closed_day(local.date())
        if closed:
            return closed
        if self.quiet_hours is not None and self.quiet_hours.contains(local.time()):
            return f"quiet hours {self.quiet_hours}"
        return None

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
        at, reasons = moment, list[str]()
        for _ in range(_MAX_MOVES):
            reason = self.why_not(at)
            if reason is None:
                return Moved(moment, at, tuple(dict.fromkeys(reasons)))
            reasons.append(reason)
            at = step(at)
        raise NoAllowedTime(f"no allowed moment {direction} {moment:%Y-%m-%d %H:%M} UTC")

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
