"""Template filters: times are stored in UTC and shown in the configured time zone."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app


def local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(current_app.config["MAILER"].app.tz)


def format_datetime(value: datetime | None, fmt: str = "%a %-d %b %Y, %H:%M %Z") -> str:
    moment = local(value)
    return "" if moment is None else moment.strftime(fmt)


def filesize(size: int) -> str:
    from mailer.bulletins.files import human_size

    return human_size(size)


def init_app(app: Flask) -> None:
    app.add_template_filter(filesize, "filesize")
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(local, "localtime")
