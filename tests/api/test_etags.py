"""ETags on every JSON answer to a GET under /api/v1, 304 to If-None-Match, and
If-Match refusing a change made against an older copy."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

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


# --- every resource's GET goes through the one ETag path -----------------------------------

BULLETIN = {"subject": "Tagged", "preheader": "", "body_markdown": "Hello."}


def _made(client: FlaskClient, key: str) -> dict[str, tuple[str, dict[str, object] | None]]:
    """One of each resource: its URL, and a change a PATCH of it may make (or None)."""
    h = bearer(key)
    contact = client.post("/api/v1/contacts", json={"email": "tag@example.org"}, headers=h)
    lst = client.post("/api/v1/lists", json={"name": "Tagged"}, headers=h)
    bulletin = client.post("/api/v1/bulletins", json=BULLETIN, headers=h)
    suppression = client.post("/api/v1/suppressions", json={"email": "gone@example.org"}, headers=h)
    made = {
        "contact": (contact, {"name": "Tag"}),
        "list": (lst, {"description": "Tagged list"}),
        "bulletin": (bulletin, {"subject": "Tagged again"}),
        "suppression": (suppression, None),
    }
    for what, (answer, _change) in made.items():
        assert answer.status_code == 201, (what, answer.get_json())
    return {what: (answer.headers["Location"], change) for what, (answer, change) in made.items()}


@pytest.mark.parametrize("what", ["contact", "list", "bulletin", "suppression"])
def test_a_get_of_any_resource_answers_304_to_its_own_etag(
    client: FlaskClient, db: Database, what: str
) -> None:
    key = make_key(db)
    url, _change = _made(client, key)[what]
    read = client.get(url, headers=bearer(key))
    assert read.status_code == 200
    assert read.headers["ETag"] == etags.tag(read.json)
    again = client.get(url, headers={**bearer(key), "If-None-Match": read.headers["ETag"]})
    assert again.status_code == 304, what
    assert again.get_data() == b"" and again.headers["ETag"] == read.headers["ETag"]


@pytest.mark.parametrize("what", ["contact", "list", "bulletin"])
def test_the_etag_a_get_gives_is_the_one_patch_accepts(
    client: FlaskClient, db: Database, what: str
) -> None:
    key = make_key(db)
    url, change = _made(client, key)[what]
    read = client.get(url, headers=bearer(key))
    changed = client.patch(
        url, json=change, headers={**bearer(key), "If-Match": read.headers["ETag"]}
    )
    assert changed.status_code == 200, changed.json
    now = client.get(url, headers=bearer(key))
    assert changed.headers["ETag"] == now.headers["ETag"] != read.headers["ETag"]
    stale = client.patch(
        url, json=change, headers={**bearer(key), "If-Match": read.headers["ETag"]}
    )
    assert stale.status_code == 412
    assert stale.headers["ETag"] == now.headers["ETag"]
    unchanged = client.get(url, headers={**bearer(key), "If-None-Match": now.headers["ETag"]})
    assert unchanged.status_code == 304


def test_a_preset_etag_still_answers_if_none_match(app: Flask) -> None:
    from flask import Response

    with app.test_request_context("/api/v1/x", headers={"If-None-Match": '"abc"'}):
        answer = etags.add_to(
            Response('{"a": 1}', mimetype="application/json", headers={"ETag": '"abc"'})
        )
        assert answer.status_code == 304 and answer.get_data() == b""
