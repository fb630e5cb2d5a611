"""The checks of single values: durations, quiet hours, which keys are secrets."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from mailer.config import format_duration, parse_duration, parse_quiet_hours
from mailer.config.validation import is_secret


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("36h", timedelta(hours=36)),
        ("7d", timedelta(days=7)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected
    assert format_duration(expected) == text


def test_quiet_hours_span_midnight() -> None:
    quiet = parse_quiet_hours("20:00-08:00")
    assert quiet is not None
    assert quiet.contains(time(23, 30)) and quiet.contains(time(7, 59))
    assert not quiet.contains(time(8, 0)) and not quiet.contains(time(19, 59))
    assert parse_quiet_hours("") is None


def test_keys_named_as_secrets_are_secret() -> None:
    for section, key in [
        ("app", "secret_key"),
        ("smtp", "password"),
        ("oidc", "client_secret"),
        ("bounces", "imap_password"),
        ("app", "database_url"),
    ]:
        assert is_secret(section, key)
    assert not is_secret("dkim", "private_key_file")
    assert not is_secret("smtp", "username")
