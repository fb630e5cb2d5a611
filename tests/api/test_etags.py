"""ETags on every JSON answer to a GET under /api/v1, 304 to If-None-Match, and
If-Match refusing a change made against an older copy."""

from __future__ import annotations

import pytest
from flask import Flask

from mailer.api import etags
from mailer.api.problems import ApiProblem
from mailer.database import Database
from tests.api.helpers import bearer, make_key


def test_a_get_carries_a_strong_etag_of_its_body(app: Flask, db: Database) -> None:
    key = make_key(db, "contacts:read", name="reader")
    answer = app.test_client().get("/api/v1/key", headers=bearer(key))
    assert answer.status_code == 200
    tag = answer.headers["ETag"]
    assert tag.startswith('"') and not tag.startswith("W/")
    assert tag == etags.tag(answer.json)


def test_if_none_match_with_the_tag_is_a_304_without_a_body(app: Flask, db: Database) -> None:
    key = make_key(db, "contacts:read", name="reader")
    client = app.test_client()
    tag = client.get("/api/v1/key", headers=bearer(key)).headers["ETag"]
    again = client.get("/api/v1/key", headers={**bearer(key), "If-None-Match": f"W/{tag}"})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == tag
    assert "RateLimit" in again.headers
    other = client.get("/api/v1/key", headers={**bearer(key), "If-None-Match": '"other"'})
    assert other.status_code == 200


def test_the_tag_changes_with_the_representation(app: Flask, db: Database) -> None:
    client = app.test_client()
    one = client.get("/api/v1/key", headers=bearer(make_key(db, name="one")))
    two = client.get("/api/v1/key", headers=bearer(make_key(db, name="two")))
    assert one.headers["ETag"] != two.headers["ETag"]


def test_the_document_is_tagged_too(client) -> None:  # type: ignore[no-untyped-def]
    answer = client.get("/api/v1/openapi.json")
    assert (
        client.get(
            "/api/v1/openapi.json", headers={"If-None-Match": answer.headers["ETag"]}
        ).status_code
        == 304
    )


def test_errors_carry_no_etag(client) -> None:  # type: ignore[no-untyped-def]
    assert "ETag" not in client.get("/api/v1/key").headers


@pytest.mark.parametrize(
    ("sent", "allowed"),
    [(None, True), ("*", True), ("CURRENT", True), ('"old", CURRENT', True), ('"old"', False)],
)
def test_if_match_refuses_a_change_made_to_an_older_copy(
    app: Flask, sent: str | None, allowed: bool
) -> None:
    representation = {"id": 1, "name": "Ann"}
    current = etags.tag(representation)
    headers = {} if sent is None else {"If-Match": sent.replace("CURRENT", current)}
    with app.test_request_context("/api/v1/things/1", method="PATCH", headers=headers):
        if allowed:
            etags.check_if_match(representation)
        else:
            with pytest.raises(ApiProblem) as refused:
                etags.check_if_match(representation)
            assert refused.value.status == 412
            assert refused.value.headers["ETag"] == current
