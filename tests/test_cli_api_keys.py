"""``mailer api-keys create|list|revoke``: the key printed once, alone on the last
line; never listed; refusals on stderr with exit 1, usage errors exit 2; audited as
the command line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from mailer.accounts.models import ApiKey
from mailer.audit.models import AuditEntry
from mailer.cli import cli
from mailer.database import Database, utcnow
from tests.api.helpers import bearer
from tests.conftest import TEST_SECRET, make_config
from tests.scheduler.test_cli import Done


def _config(tmp_path: Path, db: Database) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[app]\ndatabase_url = "{db.url}"\nsecret_key = "{TEST_SECRET}"\n'
        f'instance_dir = "{tmp_path / "instance"}"\ntimezone = "Europe/London"\n',
        encoding="utf-8",
    )
    return path


def mailer(config: Path, *args: str) -> Done:
    result = CliRunner().invoke(cli, ["--config", str(config), "api-keys", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Done(result.exit_code, result.stdout, result.stderr)


def test_create_prints_the_key_alone_on_the_last_line_and_it_works(
    tmp_path: Path, db: Database
) -> None:
    config = _config(tmp_path, db)
    done = mailer(config, "create", "--name", "CRM", "--scope", "contacts:read",
                  "--scope", "contacts:write", "--expires", "90d")  # fmt: skip
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip().splitlines()[-1]
    assert key.startswith("sm_") and " " not in key
    assert "contacts:read contacts:write" in done.stdout
    from mailer.app import create_app

    app = create_app(make_config(tmp_path, db.url))
    answer = app.test_client().get("/api/v1/key", headers=bearer(key))
    assert answer.json == {"name": "CRM", "scopes": ["contacts:read", "contacts:write"]}
    with db.transaction() as session:
        row = session.scalar(select(ApiKey))
        assert row is not None and row.expires_at is not None
        assert timedelta(days=89) < row.expires_at - utcnow() <= timedelta(days=90)
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "api_key.created"))
        assert entry is not None and entry.actor_label == "command line"
        assert key not in str(entry.detail) and key not in entry.summary


def test_expiry_as_a_date_or_a_date_and_time(tmp_path: Path, db: Database) -> None:
    config = _config(tmp_path, db)
    assert mailer(config, "create", "--name", "a", "--scope", "sends:read",
                  "--expires", "2099-06-30").returncode == 0  # fmt: skip
    assert mailer(config, "create", "--name", "b", "--scope", "sends:read",
                  "--expires", "2099-06-30T09:00").returncode == 0  # fmt: skip
    with db.transaction() as session:
        ends = {k.name: k.expires_at for k in session.scalars(select(ApiKey))}
    assert ends["a"] is not None and ends["a"].isoformat().startswith("2099-06-30T22:59:59")
    assert ends["b"] is not None and ends["b"].isoformat().startswith("2099-06-30T08:00")


def test_list_shows_keys_but_never_the_key(tmp_path: Path, db: Database) -> None:
    config = _config(tmp_path, db)
    made = mailer(config, "create", "--name", "Website", "--scope", "consultations:read")
    key = made.stdout.strip().splitlines()[-1]
    mailer(config, "create", "--name", "Old", "--scope", "sends:read")
    mailer(config, "revoke", "Old")
    listed = mailer(config, "list")
    assert listed.returncode == 0
    assert "Website" in listed.stdout and "consultations:read" in listed.stdout
    assert key not in listed.stdout and key.split("_")[2] not in listed.stdout
    lines = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
    assert " active " in lines["Website"] and " revoked " in lines["Old"]


def test_revoke_stops_the_key_and_is_audited(tmp_path: Path, db: Database) -> None:
    config = _config(tmp_path, db)
    mailer(config, "create", "--name", "CRM", "--scope", "contacts:read")
    done = mailer(config, "revoke", "CRM")
    assert done.returncode == 0
    again = mailer(config, "revoke", "CRM")
    assert again.returncode == 1 and "already revoked" in again.stderr
    missing = mailer(config, "revoke", "nobody")
    assert missing.returncode == 1 and "no API key named" in missing.stderr
    with db.transaction() as session:
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["api_key.created", "api_key.revoked"]


def test_refusals_exit_1_and_usage_errors_exit_2(tmp_path: Path, db: Database) -> None:
    config = _config(tmp_path, db)
    unknown = mailer(config, "create", "--name", "x", "--scope", "contacts:everything")
    assert unknown.returncode == 1 and "is not a scope" in unknown.stderr
    past = mailer(config, "create", "--name", "x", "--scope", "sends:read", "--expires",
                  "2001-01-01")  # fmt: skip
    assert past.returncode == 1 and "future" in past.stderr
    garbled = mailer(config, "create", "--name", "x", "--scope", "sends:read", "--expires", "soon")
    assert garbled.returncode == 1 and "not an expiry" in garbled.stderr
    mailer(config, "create", "--name", "twice", "--scope", "sends:read")
    twice = mailer(config, "create", "--name", "twice", "--scope", "sends:read")
    assert twice.returncode == 1 and "already a key" in twice.stderr
    assert mailer(config, "create", "--name", "x").returncode == 2  # no --scope
    assert mailer(config, "frobnicate").returncode == 2


def test_a_name_with_a_control_character_is_refused(tmp_path: Path, db: Database) -> None:
    config = _config(tmp_path, db)
    for name in ("evil\nname", "tab\there", "bell\x07", "bidi\u202eeman"):
        refused = mailer(config, "create", "--name", name, "--scope", "sends:read")
        assert refused.returncode == 1, name
        assert "control character" in refused.stderr
    with db.transaction() as session:
        assert session.scalars(select(ApiKey)).all() == []


def test_help_works(tmp_path: Path, db: Database) -> None:
    config = _config(tmp_path, db)
    assert "create" in mailer(config, "--help").stdout
    created = mailer(config, "create", "--help")
    assert created.returncode == 0 and "contacts:write" in created.stdout
    assert mailer(config, "list", "--help").returncode == 0
    assert mailer(config, "revoke", "--help").returncode == 0
