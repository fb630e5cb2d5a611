"""Checking one configuration value: each validator takes the raw TOML value and
returns the typed one, or raises ValueError with a reason an operator can act on
(``validation.SCHEMA`` names which key each one checks)."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable
from datetime import time, timedelta
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email

from mailer.config.sections import QuietHours

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_QUIET_HOURS = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


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


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError(f'expected a list of strings, e.g. ["a", "b"] (got {_describe(value)})')
    return tuple(_string(item).strip() for item in value if _string(item).strip())


def _domains(value: Any) -> tuple[str, ...]:
    domains = []
    for item in _strings(value):
        domain = item.lower().lstrip("@").rstrip(".")
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError(f"expected domain names (got {item!r})") from None
        if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", domain):
            raise ValueError(f"expected domain names like example.gov.uk (got {item!r})")
        domains.append(domain)
    return tuple(domains)


def _issuer(value: Any) -> str:
    # Kept exactly as given: the ID token's "iss" must equal it, trailing slash and all.
    value = _string(value).strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected the provider's https:// issuer address (got {value!r})")
    if parts.query or parts.fragment:
        raise ValueError("must not carry a query string or fragment")
    return value


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


IMAP_SECURITY = ("tls", "starttls", "none")


def _bounce_address(value: Any) -> str:
    """A plain address whose local part has no "+" (the token goes after one)."""
    value = _string(value).strip()
    if value == "":
        return value
    if "<" in value or parseaddr(value) != ("", value):
        raise ValueError(
            "must be a plain email address such as bounces@pcc.example.org, without a "
            f"name or angle brackets (got {value!r})"
        )
    try:
        address = validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address ({exc})") from exc
    local = address.rpartition("@")[0]
    if "+" in local:
        raise ValueError(
            f'the part before "@" must not hold a "+": the delivery\'s token goes after '
            f"one (got {value!r})"
        )
    if len(local) > 30 or not address.isascii():
        raise ValueError(
            'the part before "@" must be plain ASCII of at most 30 characters, so the '
            f"token still fits in an address (got {value!r})"
        )
    return address


def _feedback_id(value: Any) -> str:
    value = _string(value)
    if value and not re.fullmatch(r"[A-Za-z0-9._-]{1,40}", value):
        raise ValueError(
            "expected a short sender id of letters, digits, dots, dashes or underscores, "
            f"such as pcc-office (got {value!r})"
        )
    return value


def _topic_arns(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError(
            "expected a list of SNS topic ARNs, e.g. "
            f'["arn:aws:sns:eu-west-2:123456789012:ses-bounces"] (got {_describe(value)})'
        )
    arns = []
    for item in value:
        text = _string(item).strip() if isinstance(item, str) else ""
        if not re.fullmatch(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}", text):
            raise ValueError(
                "each entry must be an SNS topic ARN such as "
                f"arn:aws:sns:eu-west-2:123456789012:ses-bounces (got {_describe(item)})"
            )
        arns.append(text)
    return tuple(arns)


def _base64_key(value: Any) -> str:
    value = "".join(_string(value).split())
    if value:
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.serialization import load_der_public_key

        try:
            key = load_der_public_key(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            raise ValueError(
                "expected the verification key as SendGrid shows it (base64 text)"
            ) from None
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
            raise ValueError("expected SendGrid's verification key, an ECDSA P-256 public key")
    return value


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
