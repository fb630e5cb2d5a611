"""Shared fixtures: real databases (SQLite and PostgreSQL), the app, signed-in clients.

Every test that asks for ``db`` (directly or through ``app``/``client``) runs twice,
once per backend. PostgreSQL tests use a fresh database on the local server, made for
this run and dropped after it; where no server answers they are skipped, except under
CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import os
import re
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from contacts.models import SEEDED_ORGANISATION_TYPES, OrganisationType, SystemKey
from mailer import migrate
from mailer.accounts import roles
from mailer.accounts import service as accounts
from mailer.accounts.models import User
from mailer.app import create_app
from mailer.config import Config, from_mapping
from mailer.database import Base, Database
from mailer.email_templates.seeds import seed_database_once

# scrypt costs 0.2 s a hash, and the suite makes hundreds of users: minutes of hashing.
# Commands run as subprocesses (tests/test_cli.py) still hash with the real method.
accounts.PASSWORD_METHOD = "pbkdf2:sha256:1000"

PG_SERVER = os.environ.get(
    "MAILER_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TEST_SECRET = "test-secret-key-" + "x" * 32
PASSWORD = "correct horse battery staple"

BACKENDS = ("sqlite", "postgresql")


def _postgres_available() -> str | None:
    """None when the server answers, else the reason it does not."""
    engine = create_engine(PG_SERVER, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        engine.dispose()


def require_postgres() -> None:
    reason = _postgres_available()
    if reason is None:
        return
    message = f"PostgreSQL not reachable at {PG_SERVER}: {reason}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def create_pg_database() -> str:
    name = f"mailer_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)


@contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """The URL of a new, empty database: a SQLite file in ``folder`` or a PostgreSQL
    database on the local server, dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'test.db'}"
        return
    require_postgres()
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


def drop_pg_database(url: str) -> None:
    name = make_url(url).database
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = Path(__file__).resolve().parent.parent / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty database of each backend, for the whole run."""
    with fresh_database(request.param, tmp_path_factory.mktemp("sqlite")) as url:
        yield url


@pytest.fixture(scope="session")
def migrated_url(database_url: str) -> str:
    database = Database(database_url)
    migrate.upgrade(database)
    with database.transaction() as session:
        seed_database_once(session)
    database.dispose()
    return database_url


def _clean(database: Database) -> None:
    """Empty every table, keeping the rows the migrations seed."""
    with database.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name == SystemKey.__tablename__:
                continue
            connection.execute(table.delete())
        # Tests may rename, reorder or remove the seeded types: put them back as seeded.
        connection.execute(
            OrganisationType.__table__.insert(),
            [{"name": name, "position": i} for i, name in enumerate(SEEDED_ORGANISATION_TYPES)],
        )
    with database.transaction() as session:
        seed_database_once(session)


@pytest.fixture
def db(migrated_url: str) -> Iterator[Database]:
    """The migrated database of the current backend, emptied after each test."""
    database = Database(migrated_url)
    try:
        yield database
    finally:
        _clean(database)
        database.dispose()


def make_config(tmp_path: Path, database_url: str, **sections: dict[str, Any]) -> Config:
    data: dict[str, dict[str, Any]] = {
        "app": {
            "database_url": database_url,
            "instance_dir": str(tmp_path / "instance"),
            "secret_key": TEST_SECRET,
        },
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return from_mapping(data, environ={})


@pytest.fixture
def config(tmp_path: Path, db: Database) -> Config:
    return make_config(tmp_path, db.url)


@pytest.fixture
def app(config: Config) -> Iterator[Flask]:
    application = create_app(config)
    application.config["TESTING"] = True
    yield application
    application.extensions["mailer.db"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def add_user(
    database: Database,
    *,
    email: str,
    role: str = roles.ADMIN,
    password: str = PASSWORD,
    name: str = "",
) -> User:
    with database.transaction() as session:
        return accounts.create_user(
            session, email=email, password=password, role=role, name=name, by_label="test"
        )


@pytest.fixture
def admin_user(db: Database) -> User:
    return add_user(db, email="admin@example.org", role=roles.ADMIN, name="Ada Admin")


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client: FlaskClient, email: str, password: str = PASSWORD, **extra: str):
    page = client.get("/login")
    token = csrf_from(page.get_data(as_text=True))
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token, **extra}
    )


@pytest.fixture
def admin_client(client: FlaskClient, admin_user: User) -> FlaskClient:
    response = login(client, admin_user.email)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def random_password() -> str:
    return secrets.token_urlsafe(16)
