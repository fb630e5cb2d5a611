"""The checks of single values: durations, quiet hours, which keys are secrets."""

from __future__ import annotations

import base64
from datetime import time, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mailer.config import (
    ConfigError,
    format_duration,
    load_config,
    parse_duration,
    parse_quiet_hours,
)
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


def test_bounce_secrets_come_from_the_environment_and_a_wrong_sendgrid_key_is_refused(
    tmp_path: Path,
) -> None:
    environ = {
        "MAILER_BOUNCES_IMAP_PASSWORD": "from-the-environment",
        "MAILER_BOUNCES_MAILGUN_SIGNING_KEY": "mailgun-from-the-environment",
    }
    config = load_config(None, environ=environ)
    assert config.bounces.imap_password == "from-the-environment"
    assert config.bounces.mailgun_signing_key == "mailgun-from-the-environment"

    # An RSA key in base64 DER is valid base64 but not SendGrid's P-256 key.
    der = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    path = tmp_path / "config.toml"
    path.write_text(f'[bounces]\nsendgrid_public_key = "{base64.b64encode(der).decode()}"\n')
    with pytest.raises(ConfigError, match=r"sendgrid_public_key.*P-256"):
        load_config(path, environ={})
