from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from mailer.app import create_app
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
