"""Template filters: times are stored in UTC and shown in the configured time zone."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app


def local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(current_app.config["MAILER"].app.tz)


def format_datetime(value: datetime | str | None, fmt: str = "%a %-d %b %Y, %H:%M %Z") -> str:
    if isinstance(value, str):  # ISO 8601 from a JSON-able read model
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    moment = local(value)
    return "" if moment is None else moment.strftime(fmt)


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
