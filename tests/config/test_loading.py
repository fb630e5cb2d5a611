from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from datetime import time, timedelta
from pathlib import Path

import pytest

from mailer.config import Config, ConfigError, QuietHours, from_mapping, load_config
from mailer.config.validation import SCHEMA

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config.example.toml"


def load(text: str, tmp_path: Path, environ: dict[str, str] | None = None) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, environ=environ or {})


def refused(text: str, tmp_path: Path, environ: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(text, tmp_path, environ)
    return info.value


# --- defaults and the example file ------------------------------------------------------


def test_no_file_means_built_in_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(None, environ={})
    assert config.source == "built-in defaults"
    assert config.app.base_url == "http://127.0.0.1:5000"
    assert config.app.timezone == "Europe/London"
    assert config.mail.transport == "outbox"
    assert config.smtp.port == 587 and config.smtp.security == "starttls"
    assert config.smtp.lease == timedelta(minutes=5)
    assert config.scheduler.quiet_hours == QuietHours(time(20), time(8))
    assert config.dkim is None
    assert config.database_url == f"sqlite:///{tmp_path / 'instance' / 'mailer.db'}"


def test_search_order_explicit_then_env_then_local(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.toml").write_text('[app]\ntimezone = "Europe/Paris"\n')
    env_file = tmp_path / "env.toml"
    env_file.write_text('[app]\ntimezone = "Europe/Dublin"\n')
    explicit = tmp_path / "explicit.toml"
    explicit.write_text('[app]\ntimezone = "UTC"\n')
    assert load_config(None, environ={}).app.timezone == "Europe/Paris"
    assert (
        load_config(None, environ={"MAILER_CONFIG": str(env_file)}).app.timezone == "Europe/Dublin"
    )
    assert load_config(explicit, environ={"MAILER_CONFIG": str(env_file)}).app.timezone == "UTC"


def test_example_file_documents_every_key_with_its_default(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    for section, keys in SCHEMA.items():
        for key in keys:
            # [dkim] and [oidc] are commented out (absent means no signing, no single
            # sign-on); their keys are still shown. So is require_second_factor, whose
            # default depends on base_url.
            assert re.search(rf"^#? ?{key} = ", text, re.MULTILINE), f"[{section}] {key}"
        if section not in ("dkim", "oidc"):
            shown = set(keys) - ({"require_second_factor"} if section == "auth" else set())
            assert set(data[section]) == shown, section
    example = load_config(EXAMPLE, environ={})
    defaults = Config()
    for section in ("app", "mail", "smtp", "scheduler", "approval", "tracking", "retention"):
        assert getattr(example, section) == getattr(defaults, section), section


# --- refusals: one message naming the key and the reason ----------------------------------


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ('[app]\ntimezone = "Mars/Base"', "[app] timezone", "unknown time zone 'Mars/Base'"),
        ("[smtp]\nport = 99999", "[smtp] port", "between 1 and 65535"),
        ('[mail]\ntransport = "pigeon"', "[mail] transport", "must be one of"),
        ('[mail]\ntransprt = "smtp"', "[mail] transprt", "did you mean 'transport'"),
        ("[smtp]\nportt = 25", "[smtp] portt", "did you mean 'port'"),
        ("[mailer]\nx = 1", "[mailer]", "unknown section"),
        ('[smtp]\nport = "587"', "[smtp] port", "expected a whole number"),
        ("[smtp]\nconnections = 0", "[smtp] connections", "between 1 and 64"),
        ("[approval]\ntwo_person = 1", "[approval] two_person", "expected true or false"),
        ('[smtp]\ntimeout = "30 seconds"', "[smtp] timeout", "expected a duration"),
        ('[smtp]\nlease = "1s"', "[smtp] lease", "at least 10s"),
        ('[scheduler]\nquiet_hours = "8pm-8am"', "[scheduler] quiet_hours", "HH:MM-HH:MM"),
        (
            '[scheduler]\nquiet_hours = "25:00-08:00"',
            "[scheduler] quiet_hours",
            "not a time of day",
        ),
        ('[scheduler]\nholidays = "wales"', "[scheduler] holidays", "must be one of"),
        ('[app]\nbase_url = "ftp://x.example.org"', "[app] base_url", "http:// or https://"),
        ('[app]\nsecret_key = "short"', "[app] secret_key", "at least 32 characters"),
        ('[app]\ndatabase_url = "mysql://x/y"', "[app] database_url", "sqlite:///"),
        (
            '[mail]\nfrom_address = "not an address"',
            "[mail] from_address",
            "not a valid email address",
        ),
        ('[mail]\nlist_id = "bad id!"', "[mail] list_id", "host name"),
        (
            '[mail]\nfrom_address = "a@example.org\\r\\nBcc: x@example.org"',
            "[mail] from_address",
            "one line",
        ),
        ('[dkim]\ndomain = "example.org"', "[dkim] selector", "required when [dkim]"),
        (
            '[dkim]\ndomain = "example.org"\nselector = "s"\nprivate_key_file = "/nope.pem"',
            "[dkim] private_key_file",
            "no such file",
        ),
        (
            '[app]\nbase_url = "https://consult.example.org"',
            "[app] secret_key",
            "required when base_url is not loopback",
        ),
        (
            '[mail]\ntransport = "smtp"\n[smtp]\nhost = "relay.example.org"\nsecurity = "none"\n'
            'username = "u"',
            "[smtp] security",
            "clear text",
        ),
        (
            '[bounces]\nimap_host = "imap.example.org"\nimap_security = "none"',
            "[bounces] imap_security",
            "clear text to imap.example.org",
        ),
        ("app = 3", "[app]", "must be a table"),
    ],
)
def test_bad_values_are_refused_with_key_and_reason(
    tmp_path: Path, text: str, key: str, reason: str
) -> None:
    error = refused(text + "\n", tmp_path)
    assert error.key == key
    assert reason in error.reason
    assert str(error).startswith(f"{tmp_path / 'config.toml'}: {key}: ")
    assert "\n" not in str(error)


def test_unreadable_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file: not found"):
        load_config(tmp_path / "missing.toml", environ={})
    assert "is not valid TOML" in str(refused("[app\n", tmp_path))
    path = tmp_path / "latin1.toml"
    path.write_bytes('[app]\ntimezone = "Europe/London" # caf\xe9\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path, environ={})


def test_secrets_come_from_the_environment(tmp_path: Path) -> None:
    key = "k" * 40
    config = load(
        '[app]\nbase_url = "https://consult.example.org"\n',
        tmp_path,
        {
            "MAILER_SECRET_KEY": key,
            "MAILER_DATABASE_URL": "postgres://u:p@db.example.org/mailer",
            "MAILER_SMTP_PASSWORD": "relay-password",
        },
    )
    assert config.app.secret_key == key
    # Pasted URLs are driven through psycopg 3, the driver we test.
    assert config.database_url == "postgresql+psycopg://u:p@db.example.org/mailer"
    assert config.smtp.password == "relay-password"
    assert "relay-password" not in repr(config.smtp)


def test_a_bad_environment_secret_names_the_variable(tmp_path: Path) -> None:
    error = refused("", tmp_path, {"MAILER_SECRET_KEY": "short"})
    assert error.key == "$MAILER_SECRET_KEY"


def test_loopback_base_url_needs_no_secret() -> None:
    for url in ("http://127.0.0.1:8000", "http://localhost:5000", "http://[::1]:5000"):
        assert from_mapping({"app": {"base_url": url}}, environ={}).app.is_loopback


# --- through the real command -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[app]\ntimezone = "Mars/Base"\n', "[app] timezone"),
        ("[smtp]\nport = 99999\n", "[smtp] port"),
        ('[mail]\ntransport = "pigeon"\n', "[mail] transport"),
    ],
)
@pytest.mark.slow
def test_cli_exits_2_with_one_line_naming_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "mailer", "--config", str(path), "users", "list"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert key in lines[0]
    assert lines[0].startswith("mailer: configuration error:")


def test_web_server_limits(tmp_path: Path) -> None:
    config = from_mapping({}, environ={})
    assert config.max_request_bytes == 15 * 1024 * 1024  # max_attachments_mb + 5
    assert (config.app.connection_limit, config.app.request_timeout.total_seconds()) == (500, 30)
    error = refused("[app]\nmax_request_mb = 10\n", tmp_path)
    assert "[app] max_request_mb" in str(error) and "max_attachments_mb (10)" in str(error)
    assert "[app] connection_limit" in str(refused("[app]\nconnection_limit = 1\n", tmp_path))
    assert config.app.connections_per_client == 20
    error = refused("[app]\nconnections_per_client = -1\n", tmp_path)
    assert "[app] connections_per_client" in str(error)


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("app", "secret_key", 314159265358979),
        ("app", "secret_key", ["sekrit-in-a-list"]),
        ("app", "secret_key", {"nested": "sekrit-in-a-table"}),
        ("app", "secret_key", "sekrit"),  # too short
        ("app", "old_secret_keys", "sekrit-not-a-list"),
        ("app", "old_secret_keys", [271828182845904]),
        ("smtp", "password", 314159265358979),
        ("smtp", "password", 3.14159265358979),
        ("smtp", "password", ["sekrit-in-a-list"]),
        ("smtp", "password", "sekrit\nwith a line break"),
        ("app", "database_url", 314159265358979),
    ],
)
def test_a_secret_of_the_wrong_kind_is_refused_without_its_value(
    section: str, key: str, value: object
) -> None:
    with pytest.raises(ConfigError) as caught:
        from_mapping({section: {key: value}}, environ={})
    message = str(caught.value)
    assert f"[{section}] {key}" in message
    shown = [value] + (list(value) if isinstance(value, list) else [])
    shown += list(value.values()) if isinstance(value, dict) else []
    for piece in shown:
        assert str(piece) not in message and repr(piece) not in message
    assert "sekrit" not in message and "314159" not in message and "271828" not in message


def test_a_bad_secret_from_the_environment_is_not_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        from_mapping({}, environ={"MAILER_SMTP_PASSWORD": "sekrit\rvalue"})
    assert "MAILER_SMTP_PASSWORD" in str(caught.value) and "sekrit" not in str(caught.value)


def test_a_nested_secret_of_the_wrong_kind_reads_plainly() -> None:
    with pytest.raises(ConfigError) as caught:
        from_mapping({"smtp": {"password": {"a": {"b": "sekrit-value"}}}}, environ={})
    message = str(caught.value)
    assert "sekrit" not in message
    assert "expected a string (value not shown)" in message, message
