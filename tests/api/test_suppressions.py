"""/api/v1/suppressions: check an address, suppress one, lift one, read them all."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from mailer.audit.models import AuditEntry
from mailer.database import Database
from tests.api.helpers import bearer, make_key

URL = "/api/v1/suppressions"


def check(client: FlaskClient, h: dict[str, str], email: str) -> dict:
    response = client.get(URL, query_string={"email": email}, headers=h)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_suppress_check_and_lift_a_contact(client: FlaskClient, db: Database) -> None:
    h = bearer(make_key(db, name="DPO tool"))
    made = client.post("/api/v1/contacts", json={"email": "Ann@Example.org"}, headers=h).get_json()
    assert check(client, h, "ann@example.org") == {
        "items": [],
        "next_cursor": None,
        "suppressed": False,
    }

    added = client.post(
        URL, json={"email": "ANN@example.org", "reason": "Asked by phone"}, headers=h
    )
    assert added.status_code == 201
    entry = added.get_json()
    assert added.headers["Location"] == f"{URL}/{entry['id']}"
    assert entry["reason"] == "manual" and entry["detail"] == "Asked by phone"
    assert entry["contact_id"] == made["id"] and entry["email"] == "Ann@example.org"
    contact = client.get(f"/api/v1/contacts/{made['id']}", headers=h).get_json()
    assert contact["status"] == "unsubscribed"

    again = client.post(URL, json={"email": "ann@example.org", "reason": "twice"}, headers=h)
    assert again.status_code == 200 and again.get_json()["detail"] == "Asked by phone"
    checked = check(client, h, "Ann@EXAMPLE.org")
    assert checked["suppressed"] is True and checked["items"][0]["id"] == entry["id"]
    assert checked["items"][0]["since"]
    assert client.get(f"{URL}/{entry['id']}", headers=h).get_json() == entry
    assert client.get(f"{URL}/ann@example.org", headers=h).get_json() == entry

    lifted = client.delete(f"{URL}/ann@example.org", headers=h)
    assert lifted.status_code == 204
    assert check(client, h, "ann@example.org")["suppressed"] is False
    contact = client.get(f"/api/v1/contacts/{made['id']}", headers=h).get_json()
    assert contact["status"] == "active"
    assert client.delete(f"{URL}/ann@example.org", headers=h).status_code == 404
    with db.transaction() as session:
        labels = session.scalars(
            select(AuditEntry.actor_label).where(AuditEntry.action.like("suppression.%"))
        ).all()
    assert labels == ["API key 'DPO tool'", "API key 'DPO tool'"]


def test_an_address_of_nobody_known_and_lifting_by_id(client: FlaskClient, db: Database) -> None:
    h = bearer(make_key(db))
    added = client.post(URL, json={"email": "stranger@example.org"}, headers=h)
    assert added.status_code == 201
    entry = added.get_json()
    assert entry["email"] is None and entry["contact_id"] is None
    assert entry["detail"] == "suppressed through the API"
    # Being suppressed, the address is not added as a contact.
    refused = client.post("/api/v1/contacts", json={"email": "Stranger@example.org"}, headers=h)
    assert refused.status_code == 409
    assert client.delete(f"{URL}/{entry['id']}", headers=h).status_code == 204
    assert (
        client.post(
            "/api/v1/contacts", json={"email": "stranger@example.org"}, headers=h
        ).status_code
        == 201
    )


def test_list_is_cursor_paged(client: FlaskClient, db: Database) -> None:
    h = bearer(make_key(db))
    for n in range(5):
        client.post(URL, json={"email": f"s{n}@example.org"}, headers=h)
    first = client.get(URL, query_string={"limit": 3}, headers=h)
    body = first.get_json()
    assert len(body["items"]) == 3 and body["suppressed"] is None
    link = first.headers["Link"]
    second = client.get(link[1 : link.index(">")], headers=h).get_json()
    assert len(second["items"]) == 2 and second["next_cursor"] is None
    ids = [e["id"] for e in body["items"] + second["items"]]
    assert ids == sorted(ids) and len(set(ids)) == 5


def test_bad_input(client: FlaskClient, db: Database) -> None:
    h = bearer(make_key(db))
    for body, field in (
        ({}, "email"),
        ({"email": "no"}, "email"),
        ({"email": "a@example.org\nX: y"}, "email"),
        ({"email": "a@example.org", "reason": "r" * 501}, "reason"),
        ({"email": "a@example.org", "reason": "bad\x00"}, "reason"),
    ):
        response = client.post(URL, json=body, headers=h)
        assert response.status_code == 422, body
        assert response.get_json()["errors"][0]["field"] == field
    bad_check = client.get(URL, query_string={"email": "nope"}, headers=h)
    assert bad_check.status_code == 422 and bad_check.get_json()["errors"][0]["field"] == "email"
    assert client.get(f"{URL}/{10**30}", headers=h).status_code == 404
    assert client.delete(f"{URL}/0", headers=h).status_code == 404
    assert client.get(f"{URL}/not%20an%20address", headers=h).status_code == 422
    assert client.get(URL, headers=h).get_json()["items"] == []


def test_scopes(client: FlaskClient, db: Database) -> None:
    reader = bearer(make_key(db, "suppressions:read"))
    writer = bearer(make_key(db, "suppressions:write"))
    other = bearer(make_key(db, "contacts:read", "contacts:write", "contacts:erase"))
    assert client.get(URL, query_string={"email": "a@example.org"}).status_code == 401
    checked = client.get(URL, query_string={"email": "a@example.org"}, headers=reader)
    assert checked.status_code == 200
    assert client.get(URL, headers=writer).status_code == 403
    assert client.get(URL, headers=other).status_code == 403
    for key in (reader, other):
        assert client.post(URL, json={"email": "a@example.org"}, headers=key).status_code == 403
        assert client.delete(f"{URL}/a@example.org", headers=key).status_code == 403
    made = client.post(URL, json={"email": "a@example.org"}, headers=writer)
    assert made.status_code == 201
    assert client.get(f"{URL}/{made.get_json()['id']}", headers=writer).status_code == 403
    assert client.delete(f"{URL}/a@example.org", headers=writer).status_code == 204


def test_a_retried_lift_by_id_never_lifts_the_next_suppression(
    client: FlaskClient, db: Database
) -> None:
    """Lifting the newest entry, then another address suppressed, then the lift sent
    again (a retry): the second entry has an id of its own and stays."""
    h = bearer(make_key(db))
    first = client.post(URL, json={"email": "one@example.org"}, headers=h).get_json()
    assert client.delete(f"{URL}/{first['id']}", headers=h).status_code == 204
    second = client.post(URL, json={"email": "two@example.org"}, headers=h).get_json()
    assert second["id"] != first["id"]
    assert client.delete(f"{URL}/{first['id']}", headers=h).status_code == 404
    assert check(client, h, "two@example.org")["suppressed"] is True
