"""Wall-clock helpers for the scheduler tests (London, the default [app] timezone)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def local(text: str) -> datetime:
    """A London wall-clock time ("2027-03-10 21:00") as UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON).astimezone(UTC)


def shown(moment: datetime) -> str:
    return moment.astimezone(LONDON).strftime("%a %Y-%m-%d %H:%M")
