from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select, text

from mailer.accounts.models import User
from mailer.database import Database
from tests.cli_helpers import run_mailer
from tests.conftest import BACKENDS, fresh_database

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery staple\n"


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A brand-new, empty database for each test."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


def count_users(url: str) -> int:
    database = Database(url)
    try:
        with database.transaction() as session:
            return session.scalar(select(func.count()).select_from(User)) or 0
    finally:
        database.dispose()


def test_init_twice_leaves_one_schema_and_one_admin(empty_url: str, tmp_path: Path) -> None:
    args = ("init", "--admin-email", "admin@example.org", "--admin-password-stdin")
    first = run_mailer(*args, cwd=tmp_path, stdin=PASSWORD, MAILER_DATABASE_URL=empty_url)
    assert first.returncode == 0, first.stderr
    assert "schema created" in first.stdout and "admin admin@example.org created" in first.stdout
    database = Database(empty_url)
    tables = set(inspect(database.engine).get_table_names())
    database.dispose()

    second = run_mailer(*args, cwd=tmp_path, stdin=PASSWORD, MAILER_DATABASE_URL=empty_url)
    assert second.returncode == 0, second.stderr
    assert "already up to date" in second.stdout
    assert "already exists as admin; left unchanged" in second.stdout
    database = Database(empty_url)
    assert set(inspect(database.engine).get_table_names()) == tables
    database.dispose()
    assert count_users(empty_url) == 1


def test_users_add_and_list(empty_url: str, tmp_path: Path) -> None:
    assert run_mailer("init", cwd=tmp_path, MAILER_DATABASE_URL=empty_url).returncode == 0
    added = run_mailer(
        "users",
        "add",
        "Ed@Example.org",
        "--role",
        "editor",
        "--name",
        "Ed Itor",
        "--password-stdin",
        cwd=tmp_path,
        stdin=PASSWORD,
        MAILER_DATABASE_URL=empty_url,
    )
    assert added.returncode == 0, added.stderr
    assert "Ed@example.org added as editor" in added.stdout
    # Stored as a scrypt hash (the suite itself uses a cheap method: tests/conftest.py).
    engine = create_engine(empty_url)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT password_hash FROM users")).scalar_one()
    engine.dispose()
    assert stored.startswith("scrypt:") and PASSWORD not in stored
    again = run_mailer(
        "users",
        "add",
        "ed@example.org",
        "--role",
        "admin",
        "--password-stdin",
        cwd=tmp_path,
        stdin=PASSWORD,
        MAILER_DATABASE_URL=empty_url,
    )
    assert again.returncode == 1
    assert "already a user" in again.stderr
    listing = run_mailer("users", "list", cwd=tmp_path, MAILER_DATABASE_URL=empty_url)
    assert listing.returncode == 0
    assert "Ed@example.org" in listing.stdout and "editor" in listing.stdout
    assert "never" in listing.stdout


@pytest.mark.parametrize(
    ("args", "stdin", "status", "message"),
    [
        (
            ("users", "add", "x@example.org", "--role", "editor", "--password-stdin"),
            "short\n",
            1,
            "at least 12 characters",
        ),
        (
            ("users", "add", "not-an-address", "--role", "editor", "--password-stdin"),
            PASSWORD,
            1,
            "not a valid email address",
        ),
        (
            ("users", "add", "x@example.org", "--role", "boss", "--password-stdin"),
            PASSWORD,
            2,
            "'boss' is not one of",
        ),
        (
            ("users", "add", "x@example.org", "--role", "editor", "--password-stdin"),
            "",
            1,
            "no password on standard input",
        ),
        (("init", "--admin-email", "a@example.org"), None, 2, "needs --admin-password-stdin"),
        (("init", "--admin-password-stdin"), PASSWORD, 2, "needs --admin-email"),
        (("nonsense",), None, 2, "No such command"),
    ],
)
def test_refusals_and_usage_errors(
    tmp_path: Path, args: tuple[str, ...], stdin: str | None, status: int, message: str
) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert run_mailer("init", cwd=tmp_path, MAILER_DATABASE_URL=url).returncode == 0
    result = run_mailer(*args, cwd=tmp_path, stdin=stdin, MAILER_DATABASE_URL=url)
    assert result.returncode == status, result.stderr
    assert message in result.stderr


def test_commands_refuse_an_uninitialised_shared_database(empty_url: str, tmp_path: Path) -> None:
    result = run_mailer("users", "list", cwd=tmp_path, MAILER_DATABASE_URL=empty_url)
    assert result.returncode == 1
    assert "run `mailer init` first" in result.stderr
    web = run_mailer("web", "--port", "1", cwd=tmp_path, MAILER_DATABASE_URL=empty_url)
    assert web.returncode == 1
    assert "run `mailer init` first" in web.stderr


def test_unreachable_database_is_explained_without_its_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://mailer:s3cret@127.0.0.1:1/mailer"
    result = run_mailer("init", cwd=tmp_path, MAILER_DATABASE_URL=url)
    assert result.returncode == 1
    assert "cannot reach the database" in result.stderr
    assert "s3cret" not in result.stderr and "***" in result.stderr


def test_module_and_help(tmp_path: Path) -> None:
    result = run_mailer("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("init", "users", "run", "web"):
        assert command in result.stdout


def test_two_inits_at_once_on_postgresql_both_succeed(tmp_path: Path) -> None:
    """Two machines starting together: the migration lock makes one wait for the other."""
    import subprocess
    import sys

    from tests.cli_helpers import mailer_env

    with fresh_database("postgresql", tmp_path) as url:
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "mailer", "init"],
                cwd=tmp_path,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=mailer_env(MAILER_DATABASE_URL=url),
            )
            for _ in range(2)
        ]
        outcomes = [(p.wait(timeout=60), p.communicate()) for p in processes]
        assert [code for code, _ in outcomes] == [0, 0], outcomes
        messages = sorted(out for _, (out, _err) in outcomes)
        assert "already up to date" in messages[0] and "schema created" in messages[1]
