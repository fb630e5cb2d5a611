"""The instance folder: one whole secret key however many processes start at once, an
unusable key file refused, and everything in the folder owner-only."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mailer import instance
from mailer.config import ConfigError, from_mapping
from tests.cli_helpers import mailer_env, run_mailer

ROOT = Path(__file__).resolve().parent.parent

# Each process imports first, then all ask for the key at the same instant.
READ_KEY = textwrap.dedent(
    """
    import sys, time
    from mailer.config import from_mapping
    from mailer.instance import secret_key
    config = from_mapping({"app": {"instance_dir": sys.argv[1]}})
    start = float(sys.argv[2])
    while time.time() < start:
        pass
    print(repr(secret_key(config)))
    """
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _config(folder: Path, **app: object):  # type: ignore[no-untyped-def]
    return from_mapping({"app": {"instance_dir": str(folder), **app}})


@pytest.mark.slow
def test_processes_starting_at_once_all_read_one_whole_key(tmp_path: Path) -> None:
    # Old code lost this race in about a third of the rounds: twelve make it certain.
    rounds, processes = 12, 8
    for n in range(rounds):
        folder = tmp_path / f"instance-{n}"
        start = time.time() + 1.2  # room for every interpreter to import
        started = [
            subprocess.Popen(
                [sys.executable, "-c", READ_KEY, str(folder), str(start)],
                cwd=ROOT,
                env=mailer_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(processes)
        ]
        keys = []
        for process in started:
            out, err = process.communicate(timeout=60)
            assert process.returncode == 0, err
            keys.append(eval(out.strip()))  # noqa: S307 - our own repr() of a str
        assert len(set(keys)) == 1, f"round {n}: the processes read {len(set(keys))} keys"
        assert len(keys[0]) >= instance.MIN_KEY_LENGTH, f"round {n}: read {keys[0]!r}"
        assert (folder / instance.SECRET_KEY_FILE).read_text().strip() == keys[0]
        # Nothing is left behind but the key itself.
        assert sorted(p.name for p in folder.iterdir()) == ["mailer.db", "secret_key"]


@pytest.mark.parametrize("content", ["", "\n", "short-key\n"])
def test_an_empty_or_short_key_file_is_refused_naming_it(tmp_path: Path, content: str) -> None:
    folder = tmp_path / "instance"
    folder.mkdir()
    (folder / instance.SECRET_KEY_FILE).write_text(content)
    old = time.time() - 60  # not a file another process is still writing
    os.utime(folder / instance.SECRET_KEY_FILE, (old, old))
    with pytest.raises(ConfigError) as refused:
        instance.secret_key(_config(folder))
    assert str(folder / instance.SECRET_KEY_FILE) in str(refused.value)
    assert "secret_key" in refused.value.key


@pytest.mark.slow
def test_a_command_meeting_an_unusable_key_file_exits_2(tmp_path: Path) -> None:
    assert run_mailer("init", cwd=tmp_path).returncode == 0
    key_file = tmp_path / "instance" / instance.SECRET_KEY_FILE
    key_file.write_text("")
    old = time.time() - 60
    os.utime(key_file, (old, old))
    for command in (["worker", "--once"], ["web", "--port", "1"]):
        result = run_mailer(*command, cwd=tmp_path)
        assert result.returncode == 2, (command, result.stderr)
        assert "configuration error" in result.stderr
        assert str(key_file) in result.stderr
        assert "Traceback" not in result.stderr


def test_a_new_instance_folder_and_its_files_are_owner_only(tmp_path: Path) -> None:
    from mailer.delivery.outbox import OutboxTransport

    folder = tmp_path / "instance"
    config = _config(folder)
    instance.secret_key(config)
    outbox = OutboxTransport(folder / "outbox")
    outbox.send(sender="a@example.org", recipient="b@example.org", data=b"Subject: x\r\n\r\n")
    assert _mode(folder) == 0o700
    assert _mode(folder / "outbox") == 0o700
    assert _mode(folder / "mailer.db") == 0o600
    assert _mode(folder / instance.SECRET_KEY_FILE) == 0o600
    [message] = (folder / "outbox").glob("*.eml")
    assert _mode(message) == 0o600


@pytest.mark.slow
def test_the_cli_makes_the_database_and_its_side_files_owner_only(tmp_path: Path) -> None:
    assert run_mailer("init", cwd=tmp_path).returncode == 0
    folder = tmp_path / "instance"
    assert _mode(folder) == 0o700
    for path in folder.iterdir():
        assert _mode(path) & 0o077 == 0, path.name


def test_an_existing_readable_folder_is_tightened_at_start_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "instance"
    (folder / "outbox").mkdir(parents=True)
    (folder / "mailer.db").write_bytes(b"")
    (folder / "outbox" / "old.eml").write_bytes(b"To: someone@example.org\r\n")
    (folder / "not-ours.txt").write_bytes(b"an operator's own file")
    for path, mode in ((folder, 0o755), (folder / "outbox", 0o755)):
        path.chmod(mode)
    for path in (folder / "mailer.db", folder / "outbox" / "old.eml", folder / "not-ours.txt"):
        path.chmod(0o644)
    instance._tightened.discard(folder.resolve())
    with caplog.at_level(logging.WARNING, logger="mailer.instance"):
        instance.ensure_instance_dir(_config(folder))
    assert _mode(folder) == 0o700
    assert _mode(folder / "outbox") == 0o700
    assert _mode(folder / "mailer.db") == 0o600
    assert _mode(folder / "outbox" / "old.eml") == 0o600
    assert any("owner-only" in r.getMessage() for r in caplog.records)
    assert _mode(folder / "not-ours.txt") == 0o644  # only what the product keeps there


def test_the_entries_tightened_are_the_ones_the_product_writes() -> None:
    from contacts import pending_imports
    from mailer.bulletins.files import FILES_FOLDER
    from mailer.delivery import OUTBOX_FOLDER

    for name in (OUTBOX_FOLDER, FILES_FOLDER, pending_imports.FOLDER, instance.SECRET_KEY_FILE):
        assert name in instance.OWN_ENTRIES
