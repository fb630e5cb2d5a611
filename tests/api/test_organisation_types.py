"""/api/v1/organisation-types: the office's types with their counts, and a new one."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from contacts.models import SEEDED_ORGANISATION_TYPES
from mailer.audit.models import AuditEntry
from mailer.database import Database
from tests.api.helpers import bearer, make_key

URL = "/api/v1/organisation-types"


def test_list_and_add(client: FlaskClient, db: Database) -> None:
    h = bearer(make_key(db, name="CRM sync"))
    client.post(
        "/api/v1/contacts",
        json={"email": "a@example.org", "organisation_type": "Health"},
        headers=h,
    )
    listed = client.get(URL, headers=h)
    assert listed.status_code == 200
    types = listed.get_json()
    assert [t["name"] for t in types] == list(SEEDED_ORGANISATION_TYPES)
    assert {t["name"]: t["contacts"] for t in types}["Health"] == 1

    made = client.post(URL, json={"name": " Faith group "}, headers=h)
    assert made.status_code == 201
    body = made.get_json()
    assert body["name"] == "Faith group" and body["contacts"] == 0
    assert client.get(URL, headers=h).get_json()[-1]["name"] == "Faith group"
    # A contact may now name it.
    used = client.post(
        "/api/v1/contacts",
        json={"email": "b@example.org", "organisation_type": "faith GROUP"},
        headers=h,
    )
    assert used.get_json()["organisation_type"] == {"id": body["id"], "name": "Faith group"}
    with db.transaction() as session:
        entry = session.scalar(
            select(AuditEntry).where(AuditEntry.action == "organisation_type.added")
        )
        assert entry is not None and entry.actor_label == "API key 'CRM sync'"


def test_refusals(client: FlaskClient, db: Database) -> None:
    h = bearer(make_key(db))
    clash = client.post(URL, json={"name": "HEALTH"}, headers=h)
    assert clash.status_code == 409 and "already an organisation type" in clash.get_json()["detail"]
    for body, field in (
        ({}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": "Tab\tinside"}, "name"),
        ({"name": 7}, "name"),
    ):
        response = client.post(URL, json=body, headers=h)
        assert response.status_code == 422, body
        assert response.get_json()["errors"][0]["field"] == field
    blank = client.post(URL, json={"name": "   "}, headers=h)
    assert blank.status_code == 422 and "name" in blank.get_json()["detail"]
    assert len(client.get(URL, headers=h).get_json()) == len(SEEDED_ORGANISATION_TYPES)


def test_scopes(client: FlaskClient, db: Database) -> None:
    reader = bearer(make_key(db, "lists:read"))
    writer = bearer(make_key(db, "lists:write"))
    contacts_only = bearer(make_key(db, "contacts:read", "contacts:write"))
    assert client.get(URL).status_code == 401
    assert client.get(URL, headers=reader).status_code == 200
    assert client.get(URL, headers=contacts_only).status_code == 403
    assert client.post(URL, json={"name": "A"}, headers=reader).status_code == 403
    assert client.post(URL, json={"name": "A"}, headers=contacts_only).status_code == 403
    assert client.post(URL, json={"name": "A"}, headers=writer).status_code == 201
