"""/api/v1/lists: lists with counts, making and changing one, and its members (read,
add, remove, sync to a set of addresses)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from contacts import subscriptions
from contacts.models import Contact
from mailer.audit.models import AuditEntry
from mailer.database import Database
from tests.api.helpers import bearer, make_key

URL = "/api/v1/lists"


@pytest.fixture
def h(db: Database) -> dict[str, str]:
    return bearer(make_key(db, name="CRM sync"))


def contact(client: FlaskClient, h: dict[str, str], email: str, **fields: Any) -> int:
    response = client.post("/api/v1/contacts", json={"email": email, **fields}, headers=h)
    assert response.status_code in (200, 201), response.get_json()
    return int(response.get_json()["id"])


def new_list(client: FlaskClient, h: dict[str, str], name: str = "Partners") -> int:
    response = client.post(URL, json={"name": name}, headers=h)
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


def member_emails(client: FlaskClient, h: dict[str, str], list_id: int) -> list[str]:
    body = client.get(f"{URL}/{list_id}/members", query_string={"limit": 200}, headers=h)
    return [item["email"] for item in body.get_json()["items"]]


def test_make_read_and_change_a_list(client: FlaskClient, db: Database, h: dict[str, str]) -> None:
    made = client.post(
        URL,
        json={"name": " Partners ", "description": "Who we work with", "choosable": True},
        headers=h,
    )
    assert made.status_code == 201
    body = made.get_json()
    assert made.headers["Location"] == f"{URL}/{body['id']}"
    assert body["name"] == "Partners" and body["choosable"] is True
    assert body["members"] == 0 and body["active_members"] == 0

    clash = client.post(URL, json={"name": "PARTNERS"}, headers=h)
    assert clash.status_code == 409 and "already a list" in clash.get_json()["detail"]
    empty = client.post(URL, json={"name": "  "}, headers=h)
    assert empty.status_code == 422
    missing = client.post(URL, json={}, headers=h)
    assert missing.status_code == 422 and missing.get_json()["errors"][0]["field"] == "name"

    a = contact(client, h, "a@example.org", lists=[body["id"]])
    b = contact(client, h, "b@example.org", lists=[body["id"]])
    with db.transaction() as session:
        subscriptions.unsubscribe(session, session.get(Contact, b), send_id=None)
    listed = client.get(URL, headers=h).get_json()
    assert [(x["name"], x["members"], x["active_members"]) for x in listed] == [("Partners", 2, 1)]
    assert a

    read = client.get(f"{URL}/{body['id']}", headers=h)
    etag = read.headers["ETag"]
    renamed = client.patch(
        f"{URL}/{body['id']}", json={"name": "Key partners"}, headers={**h, "If-Match": etag}
    )
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "Key partners"
    assert renamed.get_json()["description"] == "Who we work with"
    stale = client.patch(
        f"{URL}/{body['id']}", json={"choosable": False}, headers={**h, "If-Match": etag}
    )
    assert stale.status_code == 412
    other = new_list(client, h, "Other")
    taken = client.patch(f"{URL}/{other}", json={"name": "key PARTNERS"}, headers=h)
    assert taken.status_code == 409
    assert client.get(f"{URL}/999999", headers=h).status_code == 404
    assert client.get(f"{URL}/{10**20}/members", headers=h).status_code == 404
    with db.transaction() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "list.changed"))
        assert entry is not None and entry.actor_label == "API key 'CRM sync'"


def test_members_are_cursor_paged(client: FlaskClient, h: dict[str, str]) -> None:
    list_id = new_list(client, h)
    for n in range(5):
        contact(client, h, f"m{n}@example.org", lists=[list_id])
    contact(client, h, "not-a-member@example.org")
    seen: list[str] = []
    url = f"{URL}/{list_id}/members?limit=2"
    while url:
        response = client.get(url, headers=h)
        seen += [item["email"] for item in response.get_json()["items"]]
        link = response.headers.get("Link")
        url = link[1 : link.index(">")] if link else ""
    assert seen == [f"m{n}@example.org" for n in range(5)]
    # A cursor of the contacts list does not page a list's members.
    contacts_page = client.get("/api/v1/contacts?limit=1", headers=h).get_json()
    wrong = client.get(
        f"{URL}/{list_id}/members",
        query_string={"cursor": contacts_page["next_cursor"]},
        headers=h,
    )
    assert wrong.status_code == 400 and wrong.get_json()["errors"][0]["field"] == "cursor"


def test_add_by_id_or_address_and_remove_one(client: FlaskClient, h: dict[str, str]) -> None:
    list_id = new_list(client, h)
    a = contact(client, h, "a@example.org")
    contact(client, h, "b@example.org")
    response = client.post(
        f"{URL}/{list_id}/members",
        json={"contact_ids": [a, 999999], "emails": ["B@example.org", "nobody@example.org"]},
        headers=h,
    )
    assert response.status_code == 200
    assert response.get_json() == {
        "added": 2,
        "already": 0,
        "unknown_ids": [999999],
        "unknown_emails": ["nobody@example.org"],
    }
    again = client.post(f"{URL}/{list_id}/members", json={"contact_ids": [a]}, headers=h)
    assert again.get_json()["added"] == 0 and again.get_json()["already"] == 1
    assert member_emails(client, h, list_id) == ["a@example.org", "b@example.org"]

    assert client.delete(f"{URL}/{list_id}/members/{a}", headers=h).status_code == 204
    assert client.delete(f"{URL}/{list_id}/members/{a}", headers=h).status_code == 404
    assert client.delete(f"{URL}/{list_id}/members/{10**20}", headers=h).status_code == 404
    assert member_emails(client, h, list_id) == ["b@example.org"]

    bad = client.post(
        f"{URL}/{list_id}/members", json={"emails": ["ok@example.org", "bad"]}, headers=h
    )
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "emails.1"
    as_text = client.post(f"{URL}/{list_id}/members", json={"contact_ids": ["1"]}, headers=h)
    assert as_text.status_code == 422
    assert as_text.get_json()["errors"][0]["field"] == "contact_ids.0"


def test_sync_makes_the_list_exactly_the_addresses_sent(
    client: FlaskClient, db: Database, h: dict[str, str]
) -> None:
    list_id = new_list(client, h)
    keep = contact(client, h, "keep@example.org", lists=[list_id])
    contact(client, h, "drop@example.org", lists=[list_id])
    contact(client, h, "new@example.org")
    left = contact(client, h, "left@example.org")
    left_member = contact(client, h, "left-member@example.org", lists=[list_id])
    with db.transaction() as session:
        for cid in (left, left_member):
            subscriptions.unsubscribe(session, session.get(Contact, cid), send_id=None)

    response = client.put(
        f"{URL}/{list_id}/members",
        json={
            "emails": [
                "KEEP@example.org",
                "new@example.org",
                "left@example.org",
                "left-member@example.org",
                "stranger@example.org",
                "new@example.org",
            ]
        },
        headers=h,
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "added": 1,
        "removed": 1,
        "unchanged": 2,
        "unknown": 1,
        "suppressed": 1,
        "unknown_emails": ["stranger@example.org"],
        "suppressed_emails": ["left@example.org"],
    }
    assert member_emails(client, h, list_id) == [
        "keep@example.org",
        "new@example.org",
        "left-member@example.org",
    ]
    assert keep
    # The same sync again changes nothing.
    same = client.put(
        f"{URL}/{list_id}/members",
        json={"emails": ["keep@example.org", "new@example.org", "left-member@example.org"]},
        headers=h,
    ).get_json()
    assert (same["added"], same["removed"], same["unchanged"]) == (0, 0, 3)


def test_a_sync_empties_a_list_only_when_told_to(
    client: FlaskClient, db: Database, h: dict[str, str]
) -> None:
    list_id = new_list(client, h)
    contact(client, h, "one@example.org", lists=[list_id])
    contact(client, h, "two@example.org", lists=[list_id])
    url = f"{URL}/{list_id}/members"
    # A broken export: no addresses, or only addresses of nobody known.
    for emails in ([], ["stranger@example.org"]):
        refused = client.put(url, json={"emails": emails}, headers=h)
        assert refused.status_code == 422, refused.get_json()
        problem = refused.get_json()
        assert problem["errors"][0]["field"] == "emails"
        assert "allow_empty" in problem["detail"] and "all 2 members" in problem["detail"]
        assert member_emails(client, h, list_id) == ["one@example.org", "two@example.org"]
    emptied = client.put(url, json={"emails": [], "allow_empty": True}, headers=h)
    assert emptied.status_code == 200 and emptied.get_json()["removed"] == 2
    assert member_emails(client, h, list_id) == []
    # An empty list synced empty again needs no permission.
    assert client.put(url, json={"emails": []}, headers=h).status_code == 200
    # Removing all but one is an ordinary sync.
    contact(client, h, "three@example.org", lists=[list_id])
    contact(client, h, "four@example.org", lists=[list_id])
    kept = client.put(url, json={"emails": ["four@example.org"]}, headers=h)
    assert kept.status_code == 200 and kept.get_json()["removed"] == 1


def test_a_sync_with_a_bad_address_changes_nothing(client: FlaskClient, h: dict[str, str]) -> None:
    list_id = new_list(client, h)
    contact(client, h, "a@example.org", lists=[list_id])
    response = client.put(
        f"{URL}/{list_id}/members", json={"emails": ["b@example.org", "a@b\r\nc"]}, headers=h
    )
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "emails.1"
    missing = client.put(f"{URL}/{list_id}/members", json={}, headers=h)
    assert missing.status_code == 422 and missing.get_json()["errors"][0]["field"] == "emails"
    assert member_emails(client, h, list_id) == ["a@example.org"]


def test_a_large_sync(client: FlaskClient, db: Database, h: dict[str, str]) -> None:
    emails = [f"bulk{n}@example.org" for n in range(2500)]
    csv = "email\n" + "\n".join(emails) + "\n"
    from io import BytesIO

    from contacts.importing import import_contacts

    with db.transaction() as session:
        import_contacts(session, BytesIO(csv.encode()), lists=["Bulk"], by_label="test")
    list_id = client.get(URL, headers=h).get_json()[0]["id"]
    result = client.put(
        f"{URL}/{list_id}/members", json={"emails": [*emails[1000:], "x@example.org"]}, headers=h
    ).get_json()
    assert (result["added"], result["removed"], result["unchanged"]) == (0, 1000, 1500)
    assert client.get(f"{URL}/{list_id}", headers=h).get_json()["members"] == 1500


def test_scopes(client: FlaskClient, db: Database) -> None:
    reader = bearer(make_key(db, "lists:read"))
    writer = bearer(make_key(db, "lists:write"))
    contacts_writer = bearer(make_key(db, "contacts:write", "contacts:read"))
    made = client.post(URL, json={"name": "Scoped"}, headers=writer)
    assert made.status_code == 201
    list_id = made.get_json()["id"]
    assert client.get(URL).status_code == 401
    assert client.get(URL, headers=reader).status_code == 200
    assert client.get(f"{URL}/{list_id}/members", headers=reader).status_code == 200
    assert client.get(URL, headers=writer).status_code == 403
    assert client.get(URL, headers=contacts_writer).status_code == 403
    for method, path, body in (
        ("post", URL, {"name": "Nope"}),
        ("patch", f"{URL}/{list_id}", {"name": "Nope"}),
        ("post", f"{URL}/{list_id}/members", {"emails": []}),
        ("put", f"{URL}/{list_id}/members", {"emails": []}),
        ("delete", f"{URL}/{list_id}/members/1", None),
    ):
        for key in (reader, contacts_writer):
            response = getattr(client, method)(path, json=body, headers=key)
            assert response.status_code == 403, (method, path)
