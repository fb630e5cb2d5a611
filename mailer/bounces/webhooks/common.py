"""What every provider's webhook shares: the refusals, what a verified request holds,
the freshness check, and reading fields from JSON that may be anything."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from typing import Any

from mailer.bounces.reports import Report

BAD_REQUEST = 400
FORBIDDEN = 403
CONFLICT = 409
UNAVAILABLE = 503


class Refused(Exception):
    """A request not acted on: its HTTP status and the sentence that says why (logged,
    and answered to the provider; it never holds a secret)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def malformed(reason: str) -> Refused:
    return Refused(BAD_REQUEST, reason)


def forbidden(reason: str) -> Refused:
    return Refused(FORBIDDEN, reason)


@dataclass(frozen=True)
class Unsubscribe:
    """A provider's report that a person used its own unsubscribe link (Mailgun)."""

    address: str
    message_id: str = ""


@dataclass(frozen=True)
class Verified:
    """A request whose signature held: what it asks for, and the key that makes the
    same request seen again a replay."""

    receipt_key: str
    reports: tuple[Report, ...] = ()
    unsubscribes: tuple[Unsubscribe, ...] = ()
    # Events in it that change nothing here (deliveries, opens, deferrals).
    ignored: int = 0


def check_fresh(signed_at: datetime, *, now: datetime, tolerance: timedelta) -> None:
    """Refuse a request signed longer ago than ``tolerance`` (or as far ahead: a
    clock that far off is not to be trusted either)."""
    if now - signed_at > tolerance:
        raise forbidden(
            "The request was signed too long ago and is refused as a replay "
            f"(older than {_duration(tolerance)})."
        )
    if signed_at - now > tolerance:
        raise forbidden("The request's signing time is in the future.")


def unix_time(value: object) -> datetime:
    """A Unix timestamp (seconds, as text or a number) as a UTC time."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise forbidden("The request's signing time is missing.")
    try:
        seconds = float(value)
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise forbidden("The request's signing time is not a Unix timestamp.") from None


def load_json(body: bytes, *, what: str) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise malformed(f"The {what} is not valid JSON.") from None


def obj(value: object, *, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise malformed(f"The {what} is not a JSON object.")
    return value


def items(value: object, *, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise malformed(f"The {what} is not a JSON list.")
    return value


def text(value: object, *, what: str, required: bool = False) -> str:
    """A string field; a number is taken as its text; anything else is malformed."""
    if value is None or value == "":
        if required:
            raise malformed(f"The {what} is missing.")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise malformed(f"The {what} is not text.")
    return str(value)


def address(value: object, *, what: str) -> str:
    """An email address, with any display name taken off."""
    raw = text(value, what=what, required=True)
    found = parseaddr(raw)[1].strip()
    if "@" not in found or len(found) > 320 or any(c.isspace() for c in found):
        raise malformed(f"The {what} is not an email address.")
    return found


def message_id(value: str) -> str:
    """A Message-ID as the deliveries store it, in angle brackets; "" for anything that
    cannot be one."""
    value = value.strip()
    if not value or len(value) > 198 or any(c.isspace() or ord(c) < 32 for c in value):
        return ""
    if not value.startswith("<"):
        value = f"<{value}>"
    return value if value.endswith(">") else ""


def _duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds % 60:
        return f"{seconds} seconds"
    minutes = seconds // 60
    return f"{minutes} minute{'' if minutes == 1 else 's'}"
