"""/api/v1/consultations: read with a key; the public list of open ones with no key,
for any website's script, cacheable by its ETag, with only what the public page shows."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from mailer.database import Database, utcnow
from scheduler.models import Consultation
from tests.api.helpers import bearer, make_key
from tests.tracking.helpers import launched


def _draft(db: Database) -> int:
    now = utcnow()
    with db.transaction() as session:
        draft = Consultation(
            title="Not yet public",
            slug="not-yet-public",
            summary="Secret plans",
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=10),
            survey_url="https://survey.example.org/secret",
        )
        session.add(draft)
        session.flush()
        return draft.id


def test_the_open_list_is_public_and_shows_only_the_public_page(app: Flask, db: Database):
    launched(app, db)
    _draft(db)
    client = app.test_client()
    answer = client.get("/api/v1/consultations/open")
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    items = answer.get_json()["items"]
    assert [i["title"] for i in items] == ["Draft Police and Crime Plan"]
    assert set(items[0]) == {"title", "summary", "opens_at", "closes_at", "page_url"}
    assert items[0]["page_url"].startswith("http://127.0.0.1:5000/consultations/")
    assert "Set-Cookie" not in answer.headers
    again = client.get(
        "/api/v1/consultations/open", headers={"If-None-Match": answer.headers["ETag"]}
    )
    assert again.status_code == 304
    assert again.headers["Access-Control-Allow-Origin"] == "*"


def test_a_key_reads_a_consultation_with_its_sends(app: Flask, db: Database):
    cid, _messages = launched(app, db)
    draft = _draft(db)
    client = app.test_client()
    key = make_key(db, "consultations:read")
    data = client.get(f"/api/v1/consultations/{cid}", headers=bearer(key)).get_json()
    assert data["state"] == "open"
    assert data["survey_url"] == "https://survey.example.org/plan"
    assert data["page_url"].endswith(f"/consultations/{data['slug']}")
    assert data["sends"][0]["kind"] == "launch" and data["sends"][0]["fired_at"]
    drafts = client.get("/api/v1/consultations?state=draft", headers=bearer(key)).get_json()
    assert [c["id"] for c in drafts["items"]] == [draft]
    assert client.get("/api/v1/consultations/424242", headers=bearer(key)).status_code == 404


def test_scopes(app: Flask, db: Database):
    client = app.test_client()
    assert client.get("/api/v1/consultations").status_code == 401
    wrong = make_key(db, "sends:read")
    assert client.get("/api/v1/consultations", headers=bearer(wrong)).status_code == 403
