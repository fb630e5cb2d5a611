"""A request body the resources cannot read is refused before they try: 415 when it
is not sent as JSON, 400 when it nests too deep or does not parse; never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from mailer.api import bodies
from mailer.database import Database
from tests.api.helpers import bearer, make_key

PROBLEM = "application/problem+json"
JSON = {"Content-Type": "application/json"}


def _send(app: Flask, key: str, method: str, path: str, data: Any, **headers: str) -> Any:
    return app.test_client().open(
        path, method=method, data=data, headers={**bearer(key), **headers}
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/suppressions"),
        ("POST", "/api/v1/contacts"),
        ("PUT", "/api/v1/lists/1/members"),
        ("PATCH", "/api/v1/contacts/1"),
    ],
)
def test_a_deeply_nested_body_is_a_400_not_a_500(
    app: Flask, db: Database, method: str, path: str
) -> None:
    key = make_key(db)
    deep = "[" * 2000 + "]" * 2000
    answer = _send(app, key, method, path, deep, **JSON)
    assert answer.status_code == 400
    assert answer.mimetype == PROBLEM
    assert f"nests deeper than {bodies.MAX_DEPTH} levels" in answer.json["detail"]
    objects = '{"a":' * 100 + "1" + "}" * 100
    assert _send(app, key, method, path, objects, **JSON).status_code == 400


def test_brackets_inside_strings_do_not_count(app: Flask, db: Database) -> None:
    key = make_key(db, "suppressions:write")
    reason = '[{\\"' * 50  # brackets and an escaped quote, all inside one string
    body = '{"email": "deep@example.org", "reason": "' + reason + '"}'
    answer = _send(app, key, "POST", "/api/v1/suppressions", body, **JSON)
    assert answer.status_code == 201, answer.json


def test_the_depth_scanner() -> None:
    assert bodies.deeper_than(b"[[[]]]", 3) is None
    assert bodies.deeper_than(b"[[[[]]]]", 3) == 4
    assert bodies.deeper_than(b'["[[[[", "\\"[[[["]', 1) is None
    assert bodies.deeper_than(b"[]" * 100, 1) is None
    assert bodies.deeper_than(b'{"a": [{"b": [1]}]}', 3) == 4
    assert bodies.deeper_than(b'"unterminated [[[[', 1) is None


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_not_sent_as_json_is_a_415_naming_json(
    app: Flask, db: Database, content_type: str | None
) -> None:
    key = make_key(db, "suppressions:write")
    headers = {} if content_type is None else {"Content-Type": content_type}
    answer = _send(
        app, key, "POST", "/api/v1/suppressions", '{"email": "a@example.org"}', **headers
    )
    assert answer.status_code == 415
    assert answer.mimetype == PROBLEM
    assert "application/json" in answer.json["detail"]
    assert answer.headers["Accept-Post"] == "application/json"


def test_a_json_type_with_a_suffix_or_charset_is_json(app: Flask, db: Database) -> None:
    key = make_key(db, "suppressions:write")
    for i, content_type in enumerate(
        ["application/json; charset=utf-8", "application/merge-patch+json"]
    ):
        body = f'{{"email": "ok{i}@example.org"}}'
        answer = _send(
            app, key, "POST", "/api/v1/suppressions", body, **{"Content-Type": content_type}
        )
        assert answer.status_code == 201, answer.json


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("{not json", "line 1, column 2"),
        ('{"email": "a@example.org",}', "line 1, column 27"),
        ('{"email":\n  "a@example.org"\n  "reason": "x"}', "line 3, column 3"),
        (b"\xff\xfe\xfd", "not UTF-8"),
    ],
)
def test_a_body_that_does_not_parse_is_a_400_saying_where(
    app: Flask, db: Database, body: str | bytes, where: str
) -> None:
    key = make_key(db, "suppressions:write")
    answer = _send(app, key, "POST", "/api/v1/suppressions", body, **JSON)
    assert answer.status_code == 400
    assert answer.mimetype == PROBLEM
    assert answer.json["detail"].startswith("The body is not valid JSON: ")
    assert where in answer.json["detail"]


def test_no_key_hears_401_before_anything_about_its_body(app: Flask) -> None:
    answer = app.test_client().post(
        "/api/v1/suppressions", data="[" * 2000, headers={"Content-Type": "text/plain"}
    )
    assert answer.status_code == 401


def test_a_post_without_a_body_is_left_to_the_operation(app: Flask, db: Database) -> None:
    key = make_key(db, "suppressions:write")
    answer = app.test_client().post("/api/v1/suppressions", headers=bearer(key))
    assert answer.status_code == 422
