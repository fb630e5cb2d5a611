"""Shared fixtures: real databases (SQLite and PostgreSQL), the app, signed-in clients.

Every test that asks for ``db`` (directly or through ``app``/``client``) runs twice,
once per backend (``MAILER_TEST_BACKENDS=sqlite`` narrows that, for a quick inner loop).
PostgreSQL tests use a fresh database on the local server, made for this run and dropped
after it; where no server answers they are skipped, except under CI (``CI=true``), where
that is a failure.

Per-test cost is kept low, because it is paid about two thousand times a run: a test's
database is emptied of the tables it wrote (every write statement of the process is
noted, and any other table found holding rows is emptied too; a test that starts a
process gets everything emptied), and the apps share compiled templates and URL rules.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from werkzeug.routing import Rule
from werkzeug.security import generate_password_hash

from contacts.models import SEEDED_ORGANISATION_TYPES, OrganisationType, SystemKey
from mailer import migrate
from mailer.accounts import passwords, roles
from mailer.accounts import service as accounts
from mailer.accounts.models import User
from mailer.app import create_app
from mailer.config import Config, from_mapping
from mailer.database import Base, Database
from mailer.email_templates.seeds import seed_database_once

# scrypt costs 0.2 s a hash, and the suite makes hundreds of users: minutes of hashing.
# Commands run as subprocesses (tests/test_cli.py) still hash with the real method.
accounts.PASSWORD_METHOD = "pbkdf2:sha256:1000"
# The hash an unknown address is checked against (so that it takes as long as a known
# one) was made with scrypt on import: made again with the method above.
accounts._DUMMY_HASH = generate_password_hash(
    "not a real password, only for timing", method=accounts.PASSWORD_METHOD
)


def _remember_accepted_passwords() -> None:
    """zxcvbn takes tens of milliseconds a password, and the suite makes its users with
    the same few: an accepted (password, email, name) is not estimated again. A refusal
    is, every time, so each one still comes from the real check."""
    check = passwords.check
    accepted: set[tuple[str, str, str]] = set()

    def remembered(password: str, *, email: str = "", name: str = "") -> None:
        if (password, email, name) not in accepted:
            check(password, email=email, name=name)
            accepted.add((password, email, name))

    passwords.check = remembered  # type: ignore[assignment]


_remember_accepted_passwords()

PG_SERVER = os.environ.get(
    "MAILER_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TEST_SECRET = "test-secret-key-" + "x" * 32
PASSWORD = "correct horse battery staple"

ALL_BACKENDS = ("sqlite", "postgresql")


def _backends() -> tuple[str, ...]:
    wanted = os.environ.get("MAILER_TEST_BACKENDS", "").replace(",", " ").split()
    unknown = set(wanted) - set(ALL_BACKENDS)
    if unknown:
        raise pytest.UsageError(f"MAILER_TEST_BACKENDS: unknown backend {sorted(unknown)}")
    return tuple(b for b in ALL_BACKENDS if b in wanted) or ALL_BACKENDS


BACKENDS = _backends()


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


# Tables the migrations fill, put back as seeded when a test has written them.
SEEDED_TYPES = OrganisationType.__tablename__
FAMILY = frozenset({"organisation_settings", "email_templates", "template_versions"})
KEPT = SystemKey.__tablename__  # the product's own keys: made once, never emptied

# Every write statement any engine of this process runs names its table here.
_WRITE = re.compile(
    r"\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE|DELETE\s+FROM"
    r"|TRUNCATE(?:\s+TABLE)?)\s+(?:ONLY\s+)?[\"`]?(\w+)",
    re.IGNORECASE,
)
_written: set[str] = set()
_processes_started = False


@event.listens_for(Engine, "before_cursor_execute")
def _note_writes(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
    _written.update(name.lower() for name in _WRITE.findall(statement))


def _note_processes(name: str, _args: tuple[Any, ...]) -> None:
    # Another process writes where the statements above cannot see.
    global _processes_started
    if name in ("subprocess.Popen", "os.fork", "os.forkpty", "os.posix_spawn", "os.exec"):
        _processes_started = True


sys.addaudithook(_note_processes)


def _holding_rows(database: Database, names: list[str]) -> set[str]:
    """Which of these tables hold a row: one statement, however many tables."""
    quote = database.engine.dialect.identifier_preparer.quote
    probes = " UNION ALL ".join(
        f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM {quote(name)})" for name in names
    )
    with database.engine.connect() as connection:
        return set(connection.execute(text(probes)).scalars())


def _clean(database: Database, *, everything: bool = True) -> None:
    """Empty every table a test may have filled, keeping the rows the migrations seed
    (put back as seeded when written). ``everything=False`` trusts the noted writes
    plus a look at which tables hold rows; True empties and reseeds all, as when
    another process may have written."""
    global _processes_started
    tables = [t for t in reversed(Base.metadata.sorted_tables) if t.name != KEPT]
    if everything or _processes_started:
        dirty = {t.name for t in tables}
    else:
        seeded = FAMILY | {SEEDED_TYPES}
        dirty = _written | _holding_rows(database, [t.name for t in tables if t.name not in seeded])
    if dirty & FAMILY:
        dirty |= FAMILY
    emptied = [t for t in tables if t.name in dirty]
    if emptied:
        _empty(database, emptied)
    if SEEDED_TYPES in dirty:
        # Tests may rename, reorder or remove the seeded types: put them back as seeded.
        with database.engine.begin() as connection:
            connection.execute(
                OrganisationType.__table__.insert(),
                [{"name": name, "position": i} for i, name in enumerate(SEEDED_ORGANISATION_TYPES)],
            )
    if dirty & FAMILY:
        with database.transaction() as session:
            seed_database_once(session)
    _written.clear()
    _processes_started = False


def _empty(database: Database, tables: list[Any]) -> None:
    """Delete the rows of ``tables`` (children first). On PostgreSQL those that only
    tables emptied too point at are truncated instead, in one statement: the next
    test's rows are then stored, and read back without ORDER BY, in the order they
    were written, as in a new table. TRUNCATE waits for no lock that a session left
    open holds: then the rows are deleted instead."""
    names = {t.name for t in tables}
    cut: set[str] = set() if database.is_sqlite else set(names)
    while True:  # keep only those whose every referrer is cut as well
        kept = {t.name for t in tables if t.name in cut and not _referrers(t.name) <= cut}
        if not kept:
            break
        cut -= kept
    if cut:
        quote = database.engine.dialect.identifier_preparer.quote
        try:
            with database.engine.begin() as connection:
                connection.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
                connection.exec_driver_sql("TRUNCATE " + ", ".join(quote(n) for n in sorted(cut)))
                for table in tables:
                    if table.name not in cut:
                        connection.execute(table.delete())
            return
        except OperationalError:
            pass
    with database.engine.begin() as connection:
        for table in tables:
            connection.execute(table.delete())


def _referrers(name: str) -> set[str]:
    return {
        t.name
        for t in Base.metadata.sorted_tables
        if any(fk.column.table.name == name for fk in t.foreign_keys)
    }


@pytest.fixture(scope="session")
def _shared_db(migrated_url: str) -> Iterator[Database]:
    # One engine for the run's tests of a backend, not one (and a new connection) each.
    database = Database(migrated_url)
    yield database
    database.dispose()


@pytest.fixture
def db(_shared_db: Database) -> Iterator[Database]:
    """The migrated database of the current backend, emptied after each test."""
    try:
        yield _shared_db
    finally:
        _clean(_shared_db, everything=_CLEAN_EVERYTHING)


# MAILER_TEST_CLEAN=all: empty and reseed every table after each test (slower; to rule
# the targeted cleaning out when two tests seem to meet each other's rows).
_CLEAN_EVERYTHING = os.environ.get("MAILER_TEST_CLEAN") == "all"


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


class _SharedBytecode(BytecodeCache):
    """Compiled page templates kept across the run's apps (each app has its own Jinja
    environment, which would compile every page again). A bucket checks its source's
    checksum, so an edited template is compiled afresh."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_TEMPLATE_CODE = _SharedBytecode()


def _share_url_builders() -> None:
    """Werkzeug compiles a URL builder for every rule of every new app, which is most
    of what creating an app costs; the builder follows from the rule's text alone
    (rules with defaults excepted), so the run's apps share them."""
    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None:  # another Werkzeug: nothing to share
        return
    builders: dict[tuple[Any, ...], Any] = {}

    def shared(self: Rule, append_unknown: bool = True) -> Any:
        if self.defaults or self.map is None:
            return compile_builder(self, append_unknown)
        key = (
            self.rule,
            self.subdomain,
            self.host,
            self.map.host_matching,
            self.merge_slashes,
            append_unknown,
        )
        if key not in builders:
            builders[key] = compile_builder(self, append_unknown)
        return builders[key]

    Rule._compile_builder = shared  # type: ignore[method-assign]


_share_url_builders()


@pytest.fixture
def app(config: Config) -> Iterator[Flask]:
    application = create_app(config)
    application.config["TESTING"] = True
    application.jinja_env.bytecode_cache = _TEMPLATE_CODE
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
