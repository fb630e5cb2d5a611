"""What all three routes share: POST only, hidden when not configured, bodies capped,
no CSRF token needed here while the admin's forms still need theirs."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mailer.app import create_app
from mailer.database import Database
from tests.conftest import make_config

ROUTES = ["/webhooks/ses", "/webhooks/sendgrid", "/webhooks/mailgun"]


@pytest.mark.parametrize("url", ROUTES)
def test_a_provider_not_configured_is_not_found(tmp_path: Path, db: Database, url: str) -> None:
    bare = create_app(make_config(tmp_path, db.url))
    bare.config["TESTING"] = True
    try:
        response = bare.test_client().post(url, data=b"{}", content_type="application/json")
        assert response.status_code == 404
    finally:
        bare.extensions["mailer.db"].dispose()


@pytest.mark.parametrize("url", ROUTES)
def test_get_is_not_allowed(client: FlaskClient, url: str) -> None:
    assert client.get(url).status_code == 405


@pytest.mark.parametrize("url", ROUTES)
def test_a_body_over_a_megabyte_is_413(client: FlaskClient, db: Database, url: str) -> None:
    response = client.post(
        url, data=b"[" + b" " * (1024 * 1024) + b"]", content_type="application/json"
    )
    assert response.status_code == 413


@pytest.mark.parametrize("url", ROUTES)
def test_no_csrf_token_is_needed_for_a_webhook(client: FlaskClient, db: Database, url: str) -> None:
    # Refused by the webhook itself (its JSON answer), not by the CSRF check.
    response = client.post(url, data=b"{}", content_type="application/json")
    assert response.status_code in (400, 403)
    assert response.is_json and "error" in (response.json or {})


def test_the_admins_forms_still_need_their_csrf_token(
    app: Flask, admin_client: FlaskClient
) -> None:
    response = admin_client.post("/admin/lists/", data={"name": "No token"})
    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)
