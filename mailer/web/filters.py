"""Template filters: times are stored in UTC and shown in the configured time zone, in
words people read ("Tuesday 1 December 2026, 3:20am"; mailer.humane_time says them).

A time shown on a page goes through ``when`` (or ``on_day``, ``at_clock``), which wrap
the words in ``<time datetime="...">`` so machines still get ISO 8601. ``when_text``
and ``day_text`` give the bare words, for attributes and plain text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from markupsafe import Markup, escape

from mailer import humane_time

Moment = datetime | date | str | None


def _tz() -> ZoneInfo:
    return current_app.config["MAILER"].app.tz


def local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return humane_time.local(value, _tz())


def _tag(value: Moment, say: Callable[[datetime | date | str], str]) -> Markup:
    """The words in a ``<time>`` element; nothing for no time, and text that is not a
    time shown as it is (a page never fails on it)."""
    if value is None or value == "":
        return Markup("")
    try:
        words, machine = say(value), humane_time.iso(value)
    except ValueError:
        return escape(str(value))
    return Markup('<time datetime="{}">{}</time>').format(machine, words)


def when(value: Moment, *, seconds: bool = False) -> Markup:
    """``<time datetime="2026-12-01T03:20:23Z">Tuesday 1 December 2026, 3:20am</time>``"""
    return _tag(value, lambda v: humane_time.when(v, _tz(), seconds=seconds))


def on_day(value: Moment) -> Markup:
    """``<time datetime="...">Tuesday 1 December 2026</time>``"""
    return _tag(value, lambda v: humane_time.day(v, _tz()))


def at_clock(value: datetime | None) -> Markup:
    """``<time datetime="...">3:20am</time>``: for times under a day already named."""

    def say(moment: datetime | date | str) -> str:
        parsed = humane_time.parse(moment)
        if not isinstance(parsed, datetime):
            raise ValueError(f"{moment!r} has no time of day")
        return humane_time.clock(parsed, _tz())

    return _tag(value, say)


def when_text(value: Moment) -> str:
    return "" if value is None or value == "" else humane_time.when(value, _tz())


def day_text(value: Moment) -> str:
    return "" if value is None or value == "" else humane_time.day(value, _tz())


def format_datetime(value: Moment, fmt: str | None = None) -> str:
    """The words of ``when`` (plain text). A strftime ``fmt`` is kept for old callers;
    pages use ``when`` and its family instead."""
    if value is None or value == "":
        return ""
    if fmt is None:
        return humane_time.when(value, _tz())
    parsed = humane_time.parse(value)
    moment = humane_time.local(parsed, _tz()) if isinstance(parsed, datetime) else parsed
    return moment.strftime(fmt)


# Reasons stored before they were written in words (a send keeps its reasons): the day
# names, the quiet hours as config wrote them, and times in UTC.
_OLD_DAY = re.compile(r"^(Saturday|Sunday)$")
_OLD_QUIET = re.compile(r"^quiet hours (\d\d):(\d\d)-(\d\d):(\d\d)$")
_OLD_UTC = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d) UTC")


def reason(text: str) -> str:
    """One reason a send moved, in words (older, terser ones put into words too)."""
    if _OLD_DAY.match(text):
        return "no messages at weekends"
    if quiet := _OLD_QUIET.match(text):
        hour, minute, end_hour, end_minute = (int(n) for n in quiet.groups())
        span = humane_time.hours(time(hour, minute), time(end_hour, end_minute))
        return f"moved out of quiet hours ({span})"
    return _OLD_UTC.sub(
        lambda m: humane_time.when(datetime.fromisoformat(m[1]).replace(tzinfo=UTC), _tz()), text
    )


def reasons(texts: Iterable[str]) -> str:
    """The reasons a send moved, in words, each once, joined by semicolons."""
    return "; ".join(dict.fromkeys(reason(text) for text in texts))


def filesize(size: int) -> str:
    from mailer.bulletins.files import human_size

    return human_size(size)


def time_left(closes_at: datetime, now: datetime) -> str:
    """How long a consultation has left: "3 days", "5 hours", "40 minutes"."""
    seconds = int((closes_at - now).total_seconds())
    if seconds <= 0:
        return "no time"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return "under a minute"


def init_app(app: Flask) -> None:
    app.add_template_filter(time_left, "time_left")
    app.add_template_filter(filesize, "filesize")
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(local, "localtime")
    app.add_template_filter(when, "when")
    app.add_template_filter(on_day, "on_day")
    app.add_template_filter(at_clock, "at_clock")
    app.add_template_filter(when_text, "when_text")
    app.add_template_filter(day_text, "day_text")
    app.add_template_filter(humane_time.iso, "iso")
    app.add_template_filter(reason, "reason")
    app.add_template_filter(reasons, "reasons")
