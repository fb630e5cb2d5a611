"""Times as people read them: "Tuesday 1 December 2026, 3:20am".

The one place that turns a stored moment into words for staff and the public. Moments
are stored in UTC; they are said in the office's timezone (``[app] timezone``), so a
summer moment reads in BST and a winter one in GMT without anyone saying which. A
naive datetime is taken to be UTC, as the database hands them back.

Machine formats (ISO 8601) stay in CSV files, JSON and ``<time datetime>`` attributes:
``iso()`` gives that one.

Pure: the timezone is passed in; nothing here reads a clock or the configuration.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo

MIDNIGHT = "midnight (start of the day)"


def aware(moment: datetime) -> datetime:
    """The moment with a timezone: a naive one is UTC (the database's convention)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def parse(value: datetime | date | str) -> datetime | date:
    """A datetime or date, from itself or from ISO 8601 text (read models carry "...Z")."""
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value


def local(moment: datetime, tz: tzinfo) -> datetime:
    return aware(moment).astimezone(tz)


def clock(value: datetime | time, tz: tzinfo | None = None, *, seconds: bool = False) -> str:
    """The time of day in the 12-hour clock: "3:20am", "9am", "midday", "midnight".

    A datetime is first put in ``tz``; a bare time is taken as already local.
    """
    at = local(value, tz or UTC).timetz() if isinstance(value, datetime) else value
    if seconds:
        hour = at.hour % 12 or 12
        return f"{hour}:{at.minute:02d}:{at.second:02d}{'am' if at.hour < 12 else 'pm'}"
    if (at.hour, at.minute) == (0, 0):
        return "midnight"
    if (at.hour, at.minute) == (12, 0):
        return "midday"
    hour = at.hour % 12 or 12
    minutes = f":{at.minute:02d}" if at.minute else ""
    return f"{hour}{minutes}{'am' if at.hour < 12 else 'pm'}"


def day(value: datetime | date | str, tz: tzinfo) -> str:
    """The date in full: "Tuesday 1 December 2026" (a datetime's local date)."""
    value = parse(value)
    on = local(value, tz).date() if isinstance(value, datetime) else value
    return f"{on:%A} {on.day} {on:%B %Y}"


def short_day(value: datetime | date | str, tz: tzinfo) -> str:
    """The date without the year, for lists within one year: "Tuesday 1 December"."""
    value = parse(value)
    on = local(value, tz).date() if isinstance(value, datetime) else value
    return f"{on:%A} {on.day} {on:%B}"


def when(value: datetime | date | str, tz: tzinfo, *, seconds: bool = False) -> str:
    """Date and time: "Tuesday 1 December 2026, 3:20am". A date alone gives the date.

    Midnight says which midnight: the one at the start of the day named.
    """
    value = parse(value)
    if not isinstance(value, datetime):
        return day(value, tz)
    at = local(value, tz)
    said = clock(at.timetz(), seconds=seconds)
    if said == "midnight":
        said = MIDNIGHT
    return f"{day(at, tz)}, {said}"


def iso(value: datetime | date | str) -> str:
    """ISO 8601 for machines (a ``<time datetime>`` attribute): UTC with a Z."""
    value = parse(value)
    if not isinstance(value, datetime):
        return value.isoformat()
    return aware(value).astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def hours(start: time, end: time) -> str:
    """A span of the day in words: "9pm to 8am"."""
    return f"{clock(start)} to {clock(end)}"
