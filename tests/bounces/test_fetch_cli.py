"""``mailer bounces fetch --once`` as an operator or a timer runs it, against a real
Dovecot: what it prints and the exit status each outcome gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailer.database import Database
from tests.bounces.dovecot import PASSWORD, USER, Dovecot
from tests.bounces.test_mailbox import AFTER, DONE, author, fill, handed_over, state
from tests.cli_helpers import free_port, run_mailer
from tests.conftest import TEST_SECRET

__all__ = ["author", "handed_over"]

pytestmark = pytest.mark.slow


def write_config(tmp_path: Path, database_url: str, bounces: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[app]
database_url = "{database_url}"
secret_key = "{TEST_SECRET}"
instance_dir = "{tmp_path / "instance"}"

[bounces]
{bounces}
""",
        encoding="utf-8",
    )
    return path


def mailbox_keys(server: Dovecot, password: str = PASSWORD) -> str:
    return (
        f'imap_host = "127.0.0.1"\nimap_port = {server.port}\nimap_security = "none"\n'
        f'imap_username = "{USER}"\nimap_password = "{password}"\n'
        f'imap_done_folder = "{DONE}"\n'
    )


def test_fetch_once_processes_the_mailbox(
    db: Database, tmp_path: Path, imap_server: Dovecot, handed_over: int
) -> None:
    fill(imap_server)
    config = write_config(tmp_path, db.url, mailbox_keys(imap_server))

    done = run_mailer("--config", str(config), "bounces", "fetch", "--once", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert "4 read, 3 recorded, 1 ignored" in done.stdout
    assert state(db) == AFTER
    assert imap_server.count(DONE) == 4
    again = run_mailer("--config", str(config), "bounces", "fetch", "--once", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "0 read" in again.stdout
    assert state(db) == AFTER


def test_a_wrong_password_is_refused_with_the_key_to_look_at(
    db: Database, tmp_path: Path, imap_server: Dovecot
) -> None:
    config = write_config(tmp_path, db.url, mailbox_keys(imap_server, "not it at all"))

    refused = run_mailer("--config", str(config), "bounces", "fetch", "--once", cwd=tmp_path)

    assert refused.returncode == 1
    assert "[bounces] imap_password" in refused.stderr
    assert f"refused the user name '{USER}' or its password" in refused.stderr
    assert "not it at all" not in refused.stderr + refused.stdout


def test_without_a_mailbox_it_says_which_key_to_set(db: Database, tmp_path: Path) -> None:
    config = write_config(tmp_path, db.url, 'address = "bounces@pcc.example.org"')

    unset = run_mailer("--config", str(config), "bounces", "fetch", "--once", cwd=tmp_path)

    assert unset.returncode == 2
    assert "set [bounces] imap_host" in unset.stderr


def test_an_unreachable_server_or_database_asks_to_try_later(
    db: Database, tmp_path: Path, imap_server: Dovecot
) -> None:
    nobody = f'imap_host = "127.0.0.1"\nimap_port = {free_port()}\nimap_security = "none"'
    config = write_config(tmp_path, db.url, nobody)
    later = run_mailer("--config", str(config), "bounces", "fetch", "--once", cwd=tmp_path)
    assert later.returncode == 75
    assert "cannot reach the IMAP server" in later.stderr

    no_database = f"sqlite:///{tmp_path / 'missing' / 'mailer.db'}"
    config = write_config(tmp_path, no_database, mailbox_keys(imap_server))
    later = run_mailer("--config", str(config), "bounces", "fetch", "--once", cwd=tmp_path)
    assert later.returncode == 75
    assert "cannot reach the database" in later.stderr


def test_without_once_it_says_the_scheduler_polls(db: Database, tmp_path: Path) -> None:
    config = write_config(tmp_path, db.url, 'imap_host = "imap.example.org"')

    told = run_mailer("--config", str(config), "bounces", "fetch", cwd=tmp_path)

    assert told.returncode == 0
    assert "every [bounces] poll" in told.stdout
