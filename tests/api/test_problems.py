"""Errors under /api/ are problem details (RFC 9457); elsewhere they stay pages."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from mailer.database import Database
from tests.api.helpers import bearer, make_app, make_key, with_things

PROBLEM = "application/problem+json"


def _is_problem(answer, status: int) -> None:  # type: ignore[no-untyped-def]
    assert answer.status_code == status
    assert answer.mimetype == PROBLEM
    body = answer.json
    assert body["status"] == status
    assert body["title"]
    assert body["type"]


def test_404_under_the_api_is_a_problem_and_elsewhere_a_page(client) -> None:  # type: ignore[no-untyped-def]
    _is_problem(client.get("/api/v1/no-such-thing"), 404)
    page = client.get("/no-such-page")
    assert page.status_code == 404
    assert page.mimetype == "text/html"


def test_405_is_a_problem_with_allow(client) -> None:  # type: ignore[no-untyped-def]
    answer = client.delete("/api/v1/key")
    _is_problem(answer, 405)
    assert "GET" in answer.headers["Allow"]


def test_422_names_the_field(tmp_path: Path, db: Database) -> None:
    app = with_things(make_app(tmp_path, db))
    key = make_key(db, "contacts:write")
    answer = app.test_client().post("/api/v1/test-things", json={}, headers=bearer(key))
    _is_problem(answer, 422)
    assert answer.json["errors"] == [
        {"field": "name", "message": "Missing data for required field."}
    ]
    assert answer.json["detail"].startswith("name: ")


def test_a_body_that_is_not_json_is_a_problem(tmp_path: Path, db: Database) -> None:
    app = with_things(make_app(tmp_path, db))
    key = make_key(db, "contacts:write")
    answer = app.test_client().post(
        "/api/v1/test-things",
        data="{not json",
        headers={**bearer(key), "Content-Type": "application/json"},
    )
    assert answer.status_code in (400, 422)
    assert answer.mimetype == PROBLEM


def test_413_is_a_problem(tmp_path: Path, db: Database) -> None:
    app = with_things(make_app(tmp_path, db))
    key = make_key(db, "contacts:write")
    huge = b'{"name": "' + b"x" * (app.config["MAX_CONTENT_LENGTH"] + 10) + b'"}'
    answer = app.test_client().post(
        "/api/v1/test-things",
        data=huge,
        headers={**bearer(key), "Content-Type": "application/json"},
    )
    _is_problem(answer, 413)


def test_500_is_a_problem_that_tells_nothing_inside(tmp_path: Path, db: Database) -> None:
    app = with_things(make_app(tmp_path, db))
    app.config["PROPAGATE_EXCEPTIONS"] = False
    key = make_key(db, "contacts:write")
    answer = app.test_client().post(
        "/api/v1/test-things", json={"name": "boom"}, headers=bearer(key)
    )
    _is_problem(answer, 500)
    assert "RuntimeError" not in answer.get_data(as_text=True)
    assert "for the test" not in answer.get_data(as_text=True)


def test_401_says_how_to_send_a_key(client) -> None:  # type: ignore[no-untyped-def]
    answer = client.get("/api/v1/key")
    _is_problem(answer, 401)
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in answer.json["detail"]


def test_problems_follow_the_documented_schema(app: Flask, client) -> None:  # type: ignore[no-untyped-def]
    from mailer.api.problems import ProblemSchema

    answer = client.get("/api/v1/nothing")
    assert ProblemSchema().validate(answer.json) == {}
