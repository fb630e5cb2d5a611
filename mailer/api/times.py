"""The API's times, both ways: one field class for a time a script sends and one for a
time it reads back, so every resource says and takes them alike (docs/api.md, "Times").

A time read back is UTC ISO 8601 with a ``Z``, to the second. A time sent is ISO 8601;
without an offset it is the office's (``[app] timezone``), as the command line takes it.
One whose UTC moment a datetime cannot hold (``0001-01-01T00:00:00+14:00`` is the last
day of year 0) is refused with a 422 naming the field, never a 500 later on."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from typing import Any

import marshmallow as ma
from flask import current_app

from mailer import humane_time

OUT_OF_RANGE = (
    "Not a time the calendar holds: between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z."
)


def _office_tz() -> tzinfo:
    return current_app.config["MAILER"].app.tz


class TimeIn(ma.fields.DateTime):
    """A time sent (ISO 8601; without an offset, the office's), as an aware UTC datetime."""

    default_error_messages = {"out_of_range": OUT_OF_RANGE}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_office_tz())
        try:
            return moment.astimezone(UTC)
        except (OverflowError, ValueError):  # past year 1 or 9999 once in UTC
            raise self.make_error("out_of_range") from None


class TimeOut(ma.fields.DateTime):
    """A time read back: UTC ISO 8601 with a ``Z``, to the second. Takes a datetime (a
    naive one is UTC, as the database hands them back) or a read model's ISO text."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {"description": "UTC, ISO 8601 with Z"})
        super().__init__(**kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, str | datetime | date):
            return humane_time.iso(value)
        raise ma.ValidationError("Not a time.")
