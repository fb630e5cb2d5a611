"""Checking a configuration: each key's value on its own (``SCHEMA``), then the rules
that involve more than one key (``check_whole``).

A bad value is refused with one line that names the key and the reason, because an
operator reading a systemd journal should not have to guess which of forty keys is
wrong; a secret's value is never repeated in it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from datetime import time, timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email

from mailer.config.sections import Config, QuietHours, is_loopback_url

# Secrets may come from the environment so they need not sit in a file.
ENV_SECRET_KEY = "MAILER_SECRET_KEY"
ENV_DATABASE_URL = "MAILER_DATABASE_URL"
ENV_SMTP_PASSWORD = "MAILER_SMTP_PASSWORD"
# (section, key, the variable that sets it): the variable wins over the file.
ENV_OVERRIDES = (
    ("app", "secret_key", ENV_SECRET_KEY),
    ("app", "database_url", ENV_DATABASE_URL),
    ("smtp", "password", ENV_SMTP_PASSWORD),
)

TRANSPORTS = ("outbox", "smtp")
SMTP_SECURITY = ("starttls", "ssl", "none")
HOLIDAY_CALENDARS = ("england-and-wales", "scotland", "northern-ireland", "")

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_QUIET_HOURS = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class ConfigError(Exception):
    """A configuration problem, worded for the operator: where, which key, why."""

    def __init__(self, key: str, reason: str, *, source: str | None = None) -> None:
        self.key = key
        self.reason = reason
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{key}: {reason}")


def parse_duration(text: str) -> timedelta:
    """Parse ``30s``, ``15m``, ``36h`` or ``7d`` into a timedelta."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"expected a duration such as 30s, 15m, 36h or 7d (got {text!r})")
    amount, unit = match.groups()
    return timedelta(**{_DURATION_UNITS[unit]: int(amount)})


def format_duration(value: timedelta) -> str:
    """The shortest exact spelling of a duration in the config's own notation."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_quiet_hours(text: str) -> QuietHours | None:
    if text == "":
        return None
    match = _QUIET_HOURS.match(text)
    if not match:
        raise ValueError(f'expected "HH:MM-HH:MM" or "" for none (got {text!r})')
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    try:
        start, end = time(h1, m1), time(h2, m2)
    except ValueError as exc:
        raise ValueError(f"not a time of day in {text!r}") from exc
    if start == end:
        raise ValueError(f'start and end are the same in {text!r}; use "" for no quiet hours')
    return QuietHours(start, end)


# --- validators: each takes the raw TOML value and returns the typed one or raises
# ValueError with a reason an operator can act on. -----------------------------------


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string (got {_describe(value)})")
    if "\r" in value or "\n" in value or "\x00" in value:
        raise ValueError("must be one line (no CR, LF or NUL characters)")
    return value


def _integer(low: int, high: int | None = None) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected a whole number (got {_describe(value)})")
        if value < low or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise ValueError(f"must be {bounds} (got {value})")
        return value

    return check


def _number(low: float) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected a number (got {_describe(value)})")
        if value < low:
            raise ValueError(f"must be at least {low:g} (got {value})")
        return float(value)

    return check


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false (got {_describe(value)})")
    return value


def _choice(*options: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        value = _string(value)
        if value not in options:
            listed = ", ".join(f'"{o}"' for o in options)
            raise ValueError(f"must be one of {listed} (got {value!r})")
        return value

    return check


def _duration(minimum: timedelta = timedelta(seconds=1)) -> Callable[[Any], timedelta]:
    def check(value: Any) -> timedelta:
        result = parse_duration(_string(value))
        if result < minimum:
            raise ValueError(f"must be at least {format_duration(minimum)} (got {value!r})")
        return result

    return check


def _base_url(value: Any) -> str:
    value = _string(value).rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected an http:// or https:// address (got {value!r})")
    if parts.query or parts.fragment:
        raise ValueError("must not carry a query string or fragment")
    return value


def _secret_key(value: Any) -> str:
    value = _string(value)
    if value and len(value) < 32:
        raise ValueError(
            "must be at least 32 characters; generate one with "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    return value


def _secret_keys(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError(f"expected a list of strings (got {_describe(value)})")
    return tuple(_secret_key(item) for item in value)


def _ip_addresses(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError(
            f'expected a list of IP addresses, e.g. ["127.0.0.1"] (got {_describe(value)})'
        )
    addresses = []
    for item in value:
        try:
            addresses.append(str(ipaddress.ip_address(_string(item).strip())))
        except ValueError:
            raise ValueError(f"expected IP addresses (got {_describe(item)})") from None
    return tuple(addresses)


def _timezone(value: Any) -> str:
    value = _string(value)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name such as Europe/London)"
        ) from exc
    return value


def _database_url(value: Any) -> str:
    value = _string(value)
    if value == "":
        return value
    scheme = value.split(":", 1)[0].lower()
    # Operators paste URLs from hosting dashboards; accept the usual spellings and
    # always drive PostgreSQL through psycopg 3, the one driver we test.
    if scheme in ("postgres", "postgresql"):
        value = "postgresql+psycopg:" + value.split(":", 1)[1]
    elif scheme not in ("postgresql+psycopg", "sqlite"):
        raise ValueError(
            f"expected a sqlite:/// or postgresql+psycopg:// URL (got scheme {scheme!r})"
        )
    return value


def _email_address(*, allow_empty: bool) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        value = _string(value)
        if value == "" and allow_empty:
            return value
        _name, address = parseaddr(value)
        try:
            validate_email(address, check_deliverability=False)
        except EmailNotValidError as exc:
            raise ValueError(f"not a valid email address ({exc})") from exc
        return value

    return check


def _plain_addresses(value: Any) -> tuple[str, ...]:
    """A list of bare addresses (``news@pcc.example.org``): the display name is always
    the office's own, so a name here would be a second, conflicting one."""
    if not isinstance(value, list):
        raise ValueError(
            f'expected a list of email addresses, e.g. ["news@pcc.example.org"] '
            f"(got {_describe(value)})"
        )
    addresses = []
    for item in value:
        text = _string(item).strip() if isinstance(item, str) else ""
        if not text or "<" in text or parseaddr(text) != ("", text):
            raise ValueError(
                "each entry must be a plain email address such as news@pcc.example.org, "
                f"without a name or angle brackets (got {_describe(item)})"
            )
        try:
            addresses.append(validate_email(text, check_deliverability=False).normalized)
        except EmailNotValidError as exc:
            raise ValueError(f"not a valid email address: {text!r} ({exc})") from exc
    return tuple(addresses)


def _hostname(value: Any) -> str:
    value = _string(value)
    if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?", value):
        raise ValueError(f"expected a host name such as stakeholders.example.org (got {value!r})")
    return value


def _nonempty(check: Callable[[Any], str]) -> Callable[[Any], str]:
    def wrapped(value: Any) -> str:
        result = check(value)
        if not result:
            raise ValueError("must not be empty")
        return result

    return wrapped


def _quiet_hours(value: Any) -> QuietHours | None:
    return parse_quiet_hours(_string(value))


def _describe(value: Any) -> str:
    kinds = {
        bool: "a boolean",
        int: "a whole number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }
    return kinds.get(type(value), type(value).__name__) + f" {value!r}"


SCHEMA: dict[str, dict[str, Callable[[Any], Any]]] = {
    "app": {
        "base_url": _base_url,
        "secret_key": _secret_key,
        "old_secret_keys": _secret_keys,
        "timezone": _timezone,
        "database_url": _database_url,
        "instance_dir": _nonempty(_string),
        "max_request_mb": _integer(0, 1000),
        "connection_limit": _integer(10, 10_000),
        "request_timeout": _duration(),
        "connections_per_client": _integer(0, 10_000),
        "trusted_proxies": _ip_addresses,
    },
    "mail": {
        "transport": _choice(*TRANSPORTS),
        "from_address": _email_address(allow_empty=False),
        "allowed_from": _plain_addresses,
        "reply_to": _email_address(allow_empty=True),
        "list_id": _hostname,
        "max_attachments_mb": _integer(1, 100),
    },
    "smtp": {
        "host": _nonempty(_string),
        "port": _integer(1, 65535),
        "security": _choice(*SMTP_SECURITY),
        "username": _string,
        "password": _string,
        "timeout": _duration(),
        "connections": _integer(1, 64),
        "rate_per_second": _number(0),
        "per_hour": _integer(0),
        "per_day": _integer(0),
        "max_attempts": _integer(1, 100),
        "retry_for": _duration(timedelta(minutes=1)),
        "lease": _duration(timedelta(seconds=10)),
        "hard_bounce_limit": _integer(1, 100),
    },
    "dkim": {
        "domain": _hostname,
        "selector": _hostname,
        "private_key_file": _nonempty(_string),
    },
    "scheduler": {
        "misfire_grace": _duration(),
        "quiet_hours": _quiet_hours,
        "send_on_weekends": _boolean,
        "holidays": _choice(*HOLIDAY_CALENDARS),
    },
    "approval": {"two_person": _boolean},
    "tracking": {"links": _boolean, "per_person": _boolean},
    "retention": {"deliveries": _duration(timedelta(days=1))},
    "auth": {
        "session_idle": _duration(timedelta(minutes=1)),
        "session_max": _duration(timedelta(minutes=1)),
    },
}

# --- secrets are never echoed: a config error lands in logs, terminals and tickets ---

# Keys whose value is a secret wherever they appear: any key named like these, in any
# section ([app] secret_key, [smtp] password, [oidc] client_secret, [bounces]
# imap_password, ...), and the database URL, which may carry a password.
_SECRET_NAMES = ("secret", "password", "passphrase", "token", "private_key")
_SECRET_KEYS = {("app", "database_url")}


def is_secret(section: str, key: str) -> bool:
    if (section, key) in _SECRET_KEYS:
        return True
    # private_key_file is a path, not a key.
    return any(part in key for part in _SECRET_NAMES) and not key.endswith("_file")


def hidden(reason: str, value: Any) -> str:
    """``reason`` with every spelling of ``value`` (and of its items) taken out."""
    pieces: list[Any] = [value]
    if isinstance(value, list | tuple):
        pieces += list(value)
    elif isinstance(value, dict):
        pieces += list(value.keys()) + list(value.values())
    # The checks say what they got last, in brackets: that part goes whole. Whatever
    # else still spells the value goes too; very short spellings ("a", "1") would
    # mangle ordinary words and cannot give a secret away, so they stay.
    reason = re.sub(r"\s*\(got .*\)\s*$", " (value not shown)", reason, flags=re.S)
    spellings = {text for piece in pieces for text in (repr(piece), str(piece)) if len(text) > 3}
    for text in sorted(spellings, key=len, reverse=True):
        reason = reason.replace(text, "(value not shown)")
    return reason


def check_whole(config: Config, *, source: str) -> None:
    """Rules that involve more than one key."""
    _check_auth(config, source=source)
    if not config.app.secret_key and not config.app.is_loopback:
        raise ConfigError(
            "[app] secret_key",
            f"required when base_url is not loopback ({config.app.base_url}); "
            f"set it in the file or in ${ENV_SECRET_KEY}",
            source=source,
        )
    if config.app.max_request_mb and config.app.max_request_mb <= config.mail.max_attachments_mb:
        raise ConfigError(
            "[app] max_request_mb",
            f"must be more than [mail] max_attachments_mb ({config.mail.max_attachments_mb}), "
            "or a document of that size could never be uploaded (0: that plus 5)",
            source=source,
        )
    if config.dkim is not None:
        key_file = Path(config.dkim.private_key_file)
        if not key_file.is_file():
            raise ConfigError("[dkim] private_key_file", f"no such file: {key_file}", source=source)
    if (
        config.mail.transport == "smtp"
        and config.smtp.security == "none"
        and config.smtp.username
        and not _is_loopback_host(config.smtp.host)
    ):
        raise ConfigError(
            "[smtp] security",
            '"none" would send the SMTP password in clear text to '
            f"{config.smtp.host}; use starttls or ssl",
            source=source,
        )


def _check_auth(config: Config, *, source: str) -> None:
    if config.auth.session_idle > config.auth.session_max:
        raise ConfigError(
            "[auth] session_idle",
            f"must not be longer than [auth] session_max "
            f"({format_duration(config.auth.session_idle)} > "
            f"{format_duration(config.auth.session_max)})",
            source=source,
        )


def _is_loopback_host(host: str) -> bool:
    return is_loopback_url(f"smtp://{host}")
