from __future__ import annotations

import time
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from mailer import migrate
from mailer.app import create_app
from mailer.database import Database
from tests.conftest import make_config


def test_healthz_reports_the_database(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    # No scheduler runs in this test: pages are served, the mail would not go.
    assert body["status"] == "degraded"
    assert body["scheduler"]["state"] == "not running"
    assert body["database"]["ok"] is True
    assert body["database"]["backend"] in ("sqlite", "postgresql")
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_says_when_the_database_is_down(tmp_path: Path) -> None:
    # Nothing listens on port 1: a real, immediate connection failure.
    app = create_app(make_config(tmp_path, "postgresql+psycopg://postgres@127.0.0.1:1/none"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "error"
    assert body["database"] == {"backend": "postgresql", "ok": False, "error": "OperationalError"}


@pytest.mark.slow
def test_healthz_is_503_quickly_while_writes_would_wait_on_a_lock(
    tmp_path: Path, db: Database
) -> None:
    app = create_app(make_config(tmp_path, db.url))
    holder = db.engine.connect()
    try:
        if db.is_sqlite:
            holder = holder.execution_options(sqlite_begin="IMMEDIATE")
        transaction = holder.begin()
        # Another writer holds the lock (SQLite) or the row (PostgreSQL) a write needs.
        holder.exec_driver_sql("UPDATE alembic_version SET version_num = version_num")
        started = time.monotonic()
        response = app.test_client().get("/healthz")
        took = time.monotonic() - started
        transaction.rollback()
    finally:
        holder.close()
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "error"
    assert body["database"]["ok"] is False and body["database"]["writes"] is False
    assert took < 6
    assert app.test_client().get("/healthz").get_json()["database"]["writes"] is True
    app.extensions["mailer.db"].dispose()


def test_healthz_is_503_when_the_sqlite_file_is_read_only(tmp_path: Path) -> None:
    path = tmp_path / "mailer.db"
    database = Database(f"sqlite:///{path}")
    migrate.upgrade(database)
    database.dispose()
    app = create_app(make_config(tmp_path, f"sqlite:///file:{path}?mode=ro&uri=true"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == {
        "backend": "sqlite",
        "ok": False,
        "writes": False,
        "error": "OperationalError",
    }
    app.extensions["mailer.db"].dispose()
