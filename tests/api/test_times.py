"""The API's times: every one answered is UTC ISO 8601 with a Z; every one taken
refuses a moment the calendar cannot hold (a 422 naming the field, never a 500), and
one without an offset is the office's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mailer.app import create_app
from mailer.database import Database
from tests.api.helpers import bearer, make_key
from tests.conftest import make_config

UTC_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
EDGE = "0001-01-01T00:00:00+14:00"  # the last day of year 0 in UTC


def _refused(answer, field: str) -> None:  # type: ignore[no-untyped-def]
    assert answer.status_code == 422, answer.get_data(as_text=True)
    problem = answer.get_json()
    assert [e["field"] for e in problem["errors"]] == [field]
    assert "calendar" in problem["errors"][0]["message"]
    assert problem["detail"].startswith(f"{field}:")


def test_contacts_lists_and_suppressions_answer_utc_with_a_z(
    client: FlaskClient, db: Database
) -> None:
    h = bearer(make_key(db))
    made = client.post("/api/v1/contacts", json={"email": "ann@example.org"}, headers=h)
    contact = made.get_json()
    assert UTC_Z.match(contact["created_at"]) and UTC_Z.match(contact["updated_at"])
    listed = client.post("/api/v1/lists", json={"name": "Partners"}, headers=h).get_json()
    assert UTC_Z.match(listed["created_at"])
    entry = client.post(
        "/api/v1/suppressions", json={"email": "ann@example.org"}, headers=h
    ).get_json()
    assert UTC_Z.match(entry["since"])
    contact = client.get(f"/api/v1/contacts/{contact['id']}", headers=h).get_json()
    assert contact["unsubscribed_at"] is None or UTC_Z.match(contact["unsubscribed_at"])
    assert UTC_Z.match(contact["updated_at"])


def test_updated_since_at_the_edge_of_the_calendar(client: FlaskClient, db: Database) -> None:
    h = bearer(make_key(db))
    client.post("/api/v1/contacts", json={"email": "ann@example.org"}, headers=h)
    _refused(
        client.get("/api/v1/contacts", query_string={"updated_since": EDGE}, headers=h),
        "updated_since",
    )
    _refused(
        client.get(
            "/api/v1/contacts",
            query_string={"updated_since": "9999-12-31T23:59:59-01:00"},
            headers=h,
        ),
        "updated_since",
    )
    for since, found in (("0001-01-01T00:00:00Z", 1), ("9999-12-31T23:59:59Z", 0)):
        answer = client.get("/api/v1/contacts", query_string={"updated_since": since}, headers=h)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        assert len(answer.get_json()["items"]) == found


@pytest.fixture
def far_app(tmp_path: Path, db: Database) -> Iterator[Flask]:
    """An office in Auckland (13 hours ahead of UTC in December, 12 in June)."""
    application = create_app(make_config(tmp_path, db.url, app={"timezone": "Pacific/Auckland"}))
    application.config["TESTING"] = True
    yield application
    application.extensions["mailer.db"].dispose()


def test_updated_since_without_an_offset_is_the_offices_time(far_app: Flask, db: Database) -> None:
    client = far_app.test_client()
    h = bearer(make_key(db))
    client.post("/api/v1/contacts", json={"email": "ann@example.org"}, headers=h)
    now = datetime.now(UTC)

    def found(naive: datetime) -> int:
        since = naive.replace(microsecond=0, tzinfo=None).isoformat()
        answer = client.get("/api/v1/contacts", query_string={"updated_since": since}, headers=h)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return len(answer.get_json()["items"])

    # An hour after now in UTC is half a day ago in Auckland: the contact changed since.
    assert found(now + timedelta(hours=1)) == 1
    # An hour after now in Auckland is still to come.
    assert found(now.astimezone(ZoneInfo("Pacific/Auckland")) + timedelta(hours=1)) == 0


def test_a_schedule_at_the_edge_of_the_calendar_names_the_field(
    client: FlaskClient, db: Database
) -> None:
    h = bearer(make_key(db))
    made = client.post("/api/v1/bulletins", json={"subject": "News"}, headers=h).get_json()
    url = f"/api/v1/bulletins/{made['id']}/schedule"
    _refused(client.post(url, json={"lists": [], "at": EDGE}, headers=h), "at")
    _refused(
        client.post(url, json={"lists": [], "at": "9999-12-31T23:30:00-14:00"}, headers=h), "at"
    )
    # Within the calendar but far off: refused in words, not a 500.
    answer = client.post(url, json={"lists": [], "at": "9999-12-31T23:59:59Z"}, headers=h)
    assert answer.status_code in (409, 422), answer.get_data(as_text=True)
    answer = client.post(url, json={"lists": [], "at": "0001-01-01T00:00:00"}, headers=h)
    assert answer.status_code in (409, 422), answer.get_data(as_text=True)
