"""Idempotency-Key: a creating request sent again gets the first answer, and changes
nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from mailer import housekeeping
from mailer.accounts import api_scopes
from mailer.accounts.models import IdempotentRequest
from mailer.api import idempotency
from mailer.database import Database, utcnow
from tests.api.helpers import bearer, make_app, make_key, things_made, with_things

URL = "/api/v1/test-things"


@pytest.fixture
def app(tmp_path: Path, db: Database) -> Flask:
    return with_things(make_app(tmp_path, db))


def _post(app: Flask, key: str, body: dict[str, str], idem: str | None = "abc-123"):
    headers = bearer(key)
    if idem is not None:
        headers["Idempotency-Key"] = idem
    return app.test_client().post(URL, json=body, headers=headers)


def test_the_same_request_again_gets_the_first_answer_and_makes_nothing(
    app: Flask, db: Database
) -> None:
    key = make_key(db, api_scopes.CONTACTS_WRITE)
    first = _post(app, key, {"name": "one"})
    again = _post(app, key, {"name": "one"})

    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == first.get_data()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.mimetype == "application/json"
    assert things_made(db) == ["one"]


def test_a_structured_field_string_is_the_same_key(app: Flask, db: Database) -> None:
    key = make_key(db, api_scopes.CONTACTS_WRITE)
    _post(app, key, {"name": "one"}, idem="k1")
    again = _post(app, key, {"name": "one"}, idem='"k1"')
    assert again.headers["Idempotent-Replayed"] == "true"
    assert things_made(db) == ["one"]


def test_without_the_header_each_request_makes_one(app: Flask, db: Database) -> None:
    key = make_key(db, api_scopes.CONTACTS_WRITE)
    _post(app, key, {"name": "one"}, idem=None)
    _post(app, key, {"name": "one"}, idem=None)
    assert things_made(db) == ["one", "one"]


def test_the_same_key_with_another_body_is_refused(app: Flask, db: Database) -> None:
    key = make_key(db, api_scopes.CONTACTS_WRITE)
    _post(app, key, {"name": "one"})
    other = _post(app, key, {"name": "two"})
    assert other.status_code == 422
    assert other.mimetype == "application/problem+json"
    assert "another request" in other.json["detail"]
    assert things_made(db) == ["one"]


def test_another_api_key_has_its_own_idempotency_keys(app: Flask, db: Database) -> None:
    one = make_key(db, api_scopes.CONTACTS_WRITE, name="one")
    two = make_key(db, api_scopes.CONTACTS_WRITE, name="two")
    _post(app, one, {"name": "a"})
    answer = _post(app, two, {"name": "b"})
    assert answer.status_code == 201
    assert "Idempotent-Replayed" not in answer.headers
    assert things_made(db) == ["a", "b"]


def test_a_second_request_while_the_first_is_answered_is_a_conflict(
    app: Flask, db: Database
) -> None:
    key = make_key(db, api_scopes.CONTACTS_WRITE)
    _post(app, key, {"name": "warm-up"}, idem="other")  # finds the key's id
    with db.transaction() as session:
        key_id = session.scalar(select(IdempotentRequest.api_key_id))
        # The first request's claim, as it stands while its view runs.
        session.add(
            IdempotentRequest(
                api_key_id=key_id, key="busy", fingerprint="x" * 64, status=0, created_at=utcnow()
            )
        )
    answer = _post(app, key, {"name": "one"}, idem="busy")
    # Same key, other fingerprint: the body check comes first.
    assert answer.status_code == 422
    with db.transaction() as session:
        row = session.scalar(select(IdempotentRequest).where(IdempotentRequest.key == "busy"))
        assert row is not None
        row.fingerprint = _fingerprint_of(app, key, {"name": "one"})
    busy = _post(app, key, {"name": "one"}, idem="busy")
    assert busy.status_code == 409
    assert busy.mimetype == "application/problem+json"
    assert "still being answered" in busy.json["detail"]
    assert things_made(db) == ["warm-up"]


def test_a_claim_left_by_a_dead_request_is_taken_over(app: Flask, db: Database) -> None:
    key = make_key(db, api_scopes.CONTACTS_WRITE)
    _post(app, key, {"name": "warm-up"}, idem="other")
    with db.transaction() as session:
        key_id = session.scalar(select(IdempotentRequest.api_key_id))
        session.add(
            IdempotentRequest(
                api_key_id=key_id,
                key="stale",
                fingerprint=_fingerprint_of(app, key, {"name": "one"}),
                status=0,
                created_at=utcnow() - idempotency.CLAIM_LEASE - timedelta(seconds=1),
            )
        )
    answer = _post(app, key, {"name": "one"}, idem="stale")
    assert answer.status_code == 201
    assert things_made(db) == ["warm-up", "one"]


def test_refusals_are_kept_and_replayed(app: Flask, db: Database) -> None:
    key = make_key(db, api_scopes.CONTACTS_WRITE)
    first = _post(app, key, {"name": "refused"})
    again = _post(app, key, {"name": "refused"})
    assert first.status_code == again.status_code == 409
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.mimetype == "application/problem+json"
    invalid = _post(app, key, {"name": ""}, idem="invalid")
    assert invalid.status_code == 422
    assert invalid.json["errors"][0]["field"] == "name"


def test_a_server_error_is_not_kept_so_the_client_may_retry(app: Flask, db: Database) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    key = make_key(db, api_scopes.CONTACTS_WRITE)
    failed = _post(app, key, {"name": "boom"})
    assert failed.status_code == 500
    assert failed.mimetype == "application/problem+json"
    assert _rows(db) == 0
    again = _post(app, key, {"name": "boom"})
    assert again.status_code == 500
    assert "Idempotent-Replayed" not in again.headers


def test_a_bad_idempotency_key_is_a_clear_400(app: Flask, db: Database) -> None:
    key = make_key(db, api_scopes.CONTACTS_WRITE)
    answer = _post(app, key, {"name": "one"}, idem="has space" + "x" * 300)
    assert answer.status_code == 400
    assert answer.json["errors"][0]["field"] == "Idempotency-Key"
    assert things_made(db) == []


def test_kept_answers_are_purged_after_a_day(app: Flask, db: Database) -> None:
    key = make_key(db, api_scopes.CONTACTS_WRITE)
    _post(app, key, {"name": "old"}, idem="old")
    _post(app, key, {"name": "new"}, idem="new")
    with db.transaction() as session:
        old = session.scalar(select(IdempotentRequest).where(IdempotentRequest.key == "old"))
        assert old is not None
        old.created_at = utcnow() - idempotency.KEEP - timedelta(minutes=1)
    housekeeping.run_once(db, app.config["MAILER"])
    with db.transaction() as session:
        assert list(session.scalars(select(IdempotentRequest.key))) == ["new"]
    # Past its day, the same key is a new request.
    _post(app, key, {"name": "old"}, idem="old")
    assert things_made(db) == ["old", "new", "old"]


def test_erasure_forgets_kept_answers_naming_the_address(app: Flask, db: Database) -> None:
    key = make_key(db, api_scopes.CONTACTS_WRITE)
    _post(app, key, {"name": "Ann@Example.org"}, idem="ann")
    _post(app, key, {"name": "bob"}, idem="bob")
    with db.transaction() as session:
        idempotency.scrub_kept_answers(session, 0, "ann@example.org")
        assert list(session.scalars(select(IdempotentRequest.key))) == ["bob"]


def _rows(db: Database) -> int:
    with db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(IdempotentRequest)) or 0)


def _fingerprint_of(app: Flask, key: str, body: dict[str, str]) -> str:
    with app.test_request_context(URL, method="POST", json=body, headers=bearer(key)):
        return idempotency._fingerprint()


def test_a_refusal_after_the_view_read_the_database_is_kept_not_a_server_error(
    tmp_path: Path, db: Database
) -> None:
    # Found by Schemathesis: the view had read through the request's session, which on
    # SQLite holds the write lock, and keeping its 404 waited for that lock (a 500).
    app = make_app(tmp_path, db)
    key = make_key(db, api_scopes.BULLETINS_WRITE)
    headers = {**bearer(key), "Idempotency-Key": "refused-1"}
    client = app.test_client()
    url = "/api/v1/bulletins/999999/schedule"
    first = client.post(url, json={"lists": []}, headers=headers)
    again = client.post(url, json={"lists": []}, headers=headers)
    assert first.status_code == 404
    assert first.mimetype == "application/problem+json"
    assert again.status_code == 404
    assert again.headers["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/contacts", {"email": "replay@example.org", "name": "Ray"}),
        ("/api/v1/lists", {"name": "Replayed"}),
        ("/api/v1/bulletins", {"subject": "Again", "preheader": "", "body_markdown": "Hi."}),
    ],
)
def test_a_replay_carries_the_headers_that_matter(
    app: Flask, db: Database, url: str, body: dict[str, str]
) -> None:
    headers = {**bearer(make_key(db)), "Idempotency-Key": "same-again"}
    client = app.test_client()
    first = client.post(url, json=body, headers=headers)
    again = client.post(url, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    for name in ("Location", "ETag", "Content-Type"):
        assert again.headers[name] == first.headers[name], name
    read = client.get(first.headers["Location"], headers=headers)
    assert again.headers["ETag"] == read.headers["ETag"]
