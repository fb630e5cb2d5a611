"""Keys: sent as Bearer, refused when wrong, revoked or expired, never stored in
clear; and no cookie is read or set under /api/, while the admin keeps its CSRF."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mailer.accounts import api_keys
from mailer.accounts.models import ApiKey
from mailer.database import Database, utcnow
from tests.api.helpers import bearer, make_key

URL = "/api/v1/key"


def test_a_usable_key_says_who_it_is(client: FlaskClient, db: Database) -> None:
    key = make_key(db, "contacts:read", "sends:read", name="CRM sync")
    answer = client.get(URL, headers=bearer(key))
    assert answer.status_code == 200
    assert answer.json == {"name": "CRM sync", "scopes": ["contacts:read", "sends:read"]}


def test_a_wrong_key_is_401(client: FlaskClient, db: Database) -> None:
    key = make_key(db)
    for wrong in (key[:-1] + ("A" if key[-1] != "A" else "B"), "sm_nope_nope", "Basic abc"):
        answer = client.get(URL, headers={"Authorization": f"Bearer {wrong}"})
        assert answer.status_code == 401
        assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]
    assert client.get(URL, headers={"Authorization": f"Basic {key}"}).status_code == 401


def test_an_expired_key_is_401(client: FlaskClient, db: Database) -> None:
    key = make_key(db, expires_at=utcnow() + timedelta(seconds=1))
    with db.transaction() as session:
        row = session.scalar(select(ApiKey))
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
    answer = client.get(URL, headers=bearer(key))
    assert answer.status_code == 401
    assert "expired" in answer.json["detail"]


def test_a_revoked_key_is_401(client: FlaskClient, db: Database) -> None:
    key = make_key(db)
    assert client.get(URL, headers=bearer(key)).status_code == 200
    with db.transaction() as session:
        row = session.scalar(select(ApiKey))
        assert row is not None
        api_keys.revoke(session, row, by=None, now=utcnow())
    assert client.get(URL, headers=bearer(key)).status_code == 401


def test_last_used_is_recorded(client: FlaskClient, db: Database) -> None:
    key = make_key(db)
    with db.transaction() as session:
        assert session.scalar(select(ApiKey.last_used_at)) is None
    before = utcnow()
    client.get(URL, headers=bearer(key))
    with db.transaction() as session:
        used = session.scalar(select(ApiKey.last_used_at))
    assert used is not None and used >= before - timedelta(seconds=1)


def test_keys_are_never_stored_in_clear(db: Database) -> None:
    key = make_key(db, name="clear?")
    secret = key.split("_", 2)[2]
    with db.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT * FROM api_keys").all()
    flat = " ".join(str(value) for row in rows for value in row)
    assert secret not in flat
    assert key not in flat


def test_the_admins_cookie_opens_nothing_and_none_is_set(
    admin_client: FlaskClient, db: Database
) -> None:
    assert admin_client.get("/admin/").status_code == 200  # signed in
    answer = admin_client.get(URL)
    assert answer.status_code == 401
    assert "Set-Cookie" not in answer.headers
    assert "Cookie" not in answer.headers.get("Vary", "")
    key = make_key(db)
    keyed = admin_client.get(URL, headers=bearer(key))
    assert keyed.status_code == 200
    assert "Set-Cookie" not in keyed.headers
    reference = admin_client.get("/api/v1/")
    assert reference.status_code == 200
    assert "Set-Cookie" not in reference.headers


def test_the_admins_forms_still_need_their_csrf_token(admin_client: FlaskClient) -> None:
    refused = admin_client.post(
        "/admin/users/", data={"email": "new@example.org", "role": "editor", "name": "N"}
    )
    assert refused.status_code == 400
    assert "new@example.org" not in admin_client.get("/admin/users/").get_data(as_text=True)


def test_an_api_post_needs_no_csrf_token(app: Flask, db: Database) -> None:
    from tests.api.helpers import with_things

    with_things(app)
    key = make_key(db, "contacts:write")
    answer = app.test_client().post("/api/v1/test-things", json={"name": "x"}, headers=bearer(key))
    assert answer.status_code == 201
