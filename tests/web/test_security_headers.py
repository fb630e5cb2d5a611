"""Strict-Transport-Security when the product is served over https, and only then."""

from __future__ import annotations

from pathlib import Path

from mailer.app import create_app
from mailer.database import Database
from tests.conftest import make_config


def test_https_base_url_sends_hsts_on_every_page(tmp_path: Path, db: Database) -> None:
    # An https base_url now asks approvers and admins for a second factor by default;
    # this test is about the headers, so it says which policy it runs under.
    app = create_app(
        make_config(
            tmp_path,
            db.url,
            app={"base_url": "https://stakeholders.example.org"},
            auth={"require_second_factor": "none"},
        )
    )
    client = app.test_client()
    for path in ("/login", "/healthz", "/consultations/none", "/admin/"):
        response = client.get(path, base_url="https://stakeholders.example.org")
        assert (
            response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        ), path
    app.extensions["mailer.db"].dispose()


def test_http_base_url_sends_no_hsts(tmp_path: Path, db: Database) -> None:
    app = create_app(make_config(tmp_path, db.url))
    response = app.test_client().get("/login")
    assert "Strict-Transport-Security" not in response.headers
    app.extensions["mailer.db"].dispose()
