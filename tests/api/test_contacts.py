"""/api/v1/contacts as a script writer meets it: upsert by address, find by address,
filters and cursor paging, ETags, refusals that name the field, scopes."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from contacts import subscriptions
from contacts.models import Contact, ContactList, ListMembership, OrganisationType
from mailer.audit.models import AuditEntry
from mailer.database import Database
from tests.api.helpers import bearer, make_key
from tests.concurrency import together

URL = "/api/v1/contacts"


@pytest.fixture
def h(db: Database) -> dict[str, str]:
    return bearer(make_key(db, name="CRM sync"))


def add(client: FlaskClient, h: dict[str, str], email: str, **fields: Any) -> dict[str, Any]:
    response = client.post(URL, json={"email": email, **fields}, headers=h)
    assert response.status_code in (200, 201), response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def count(db: Database, model: Any = Contact) -> int:
    with db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_upsert_creates_then_updates_the_contact_with_that_address(
    client: FlaskClient, db: Database, h: dict[str, str]
) -> None:
    created = client.post(
        URL,
        json={
            "email": "Alice.Smith@Example.org",
            "name": "Alice Smith",
            "organisation": "Northshire Council",
            "organisation_type": "local authority",
            "role": "CEO",
            "area": "North",
            "tags": ["partner", "board"],
        },
        headers=h,
    )
    assert created.status_code == 201
    body = created.get_json()
    assert created.headers["Location"] == f"{URL}/{body['id']}"
    assert body["email"] == "Alice.Smith@example.org"
    assert body["organisation_type"]["name"] == "Local authority"
    assert body["tags"] == ["partner", "board"] and body["status"] == "active"
    assert body["kept"] == []

    # The same address, other case: the same contact, changed; what is left out stays.
    updated = client.post(
        URL, json={"email": "alice.smith@example.ORG", "role": "Chair"}, headers=h
    )
    assert updated.status_code == 200
    again = updated.get_json()
    assert again["id"] == body["id"]
    assert again["role"] == "Chair" and again["name"] == "Alice Smith"
    assert again["organisation_type"]["name"] == "Local authority"
    assert count(db) == 1
    with db.transaction() as session:
        labels = session.scalars(
            select(AuditEntry.actor_label).where(AuditEntry.action == "contact.saved")
        ).all()
    assert labels == ["API key 'CRM sync'", "API key 'CRM sync'"]


def test_find_by_email_is_a_list_of_none_or_one(
    client: FlaskClient, db: Database, h: dict[str, str]
) -> None:
    add(client, h, "bob@example.org", name="Bob")
    found = client.get(URL, query_string={"email": "BOB@example.org"}, headers=h).get_json()
    assert [c["name"] for c in found["items"]] == ["Bob"] and found["next_cursor"] is None
    none = client.get(URL, query_string={"email": "carol@example.org"}, headers=h).get_json()
    assert none["items"] == []
    bad = client.get(URL, query_string={"email": "not an address"}, headers=h)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "email"


def test_filters(client: FlaskClient, db: Database, h: dict[str, str]) -> None:
    with db.transaction() as session:
        partners = ContactList(name="Partners")
        session.add(partners)
        session.flush()
        partners_id = partners.id
        health = session.scalar(
            select(OrganisationType.id).where(OrganisationType.name == "Health")
        )
    a = add(client, h, "a@example.org", tags=["Board"], area=" North ", lists=[partners_id])
    add(client, h, "b@example.org", organisation_type=health, area="south")
    c = add(client, h, "c@example.org", tags=["board", "50%"])
    with db.transaction() as session:
        subscriptions.unsubscribe(session, session.get(Contact, c["id"]), send_id=None)

    def emails(**query: Any) -> list[str]:
        response = client.get(URL, query_string=query, headers=h)
        assert response.status_code == 200, response.get_json()
        return [item["email"] for item in response.get_json()["items"]]

    assert emails(list=partners_id) == ["a@example.org"]
    assert a["lists"] == [partners_id]
    assert emails(organisation_type=health) == ["b@example.org"]
    assert emails(tag="BOARD") == ["a@example.org", "c@example.org"]
    assert emails(tag="5_%") == []  # wildcards mean themselves
    assert emails(area="north") == ["a@example.org"]
    assert emails(status="unsubscribed") == ["c@example.org"]
    assert emails(status="active") == ["a@example.org", "b@example.org"]
    assert emails(updated_since="2000-01-01T00:00:00+00:00") == [
        "a@example.org",
        "b@example.org",
        "c@example.org",
    ]
    assert emails(updated_since="2999-01-01T00:00:00Z") == []
    bad = client.get(URL, query_string={"status": "gone"}, headers=h)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "status"
    # Without an offset: the office's time (as docs/api.md says of every time sent).
    assert len(emails(updated_since="2020-01-01T00:00:00")) == 3
    bad = client.get(URL, query_string={"updated_since": "yesterday"}, headers=h)
    assert bad.status_code == 422
    assert bad.get_json()["errors"][0]["field"] == "updated_since"


def test_cursor_paging_is_stable_while_contacts_are_added(
    client: FlaskClient, db: Database, h: dict[str, str]
) -> None:
    for n in range(5):
        add(client, h, f"p{n}@example.org")
    seen: list[str] = []
    response = client.get(URL, query_string={"limit": 2}, headers=h)
    pages = 0
    while True:
        body = response.get_json()
        seen += [item["email"] for item in body["items"]]
        pages += 1
        if pages == 1:
            add(client, h, "late@example.org")  # joins the end, shifts nothing
        if body["next_cursor"] is None:
            assert "Link" not in response.headers
            break
        link = response.headers["Link"]
        assert link.endswith('>; rel="next"') and body["next_cursor"] in link
        next_url = link[1 : link.index(">")]
        assert "limit=2" in next_url
        response = client.get(next_url, headers=h)
    assert seen == [f"p{n}@example.org" for n in range(5)] + ["late@example.org"]
    assert pages == 3


def test_a_forged_cursor_or_a_limit_out_of_range_is_refused_by_name(
    client: FlaskClient, h: dict[str, str]
) -> None:
    forged = client.get(URL, query_string={"cursor": "WzEsMl0.bad"}, headers=h)
    assert forged.status_code == 400
    assert forged.get_json()["errors"][0]["field"] == "cursor"
    for limit in (0, 201, "x"):
        response = client.get(URL, query_string={"limit": limit}, headers=h)
        assert response.status_code == 422
        assert response.get_json()["errors"][0]["field"] == "limit"


def test_get_and_patch_with_etags(client: FlaskClient, db: Database, h: dict[str, str]) -> None:
    made = add(client, h, "dee@example.org", name="Dee")
    read = client.get(f"{URL}/{made['id']}", headers=h)
    assert read.status_code == 200 and read.get_json()["name"] == "Dee"
    etag = read.headers["ETag"]
    assert etag == client.get(f"{URL}/{made['id']}", headers=h).headers["ETag"]

    changed = client.patch(
        f"{URL}/{made['id']}", json={"name": "Dee Jones"}, headers={**h, "If-Match": etag}
    )
    assert changed.status_code == 200 and changed.get_json()["name"] == "Dee Jones"
    assert changed.headers["ETag"] != etag
    assert changed.headers["ETag"] == client.get(f"{URL}/{made['id']}", headers=h).headers["ETag"]

    stale = client.patch(
        f"{URL}/{made['id']}", json={"name": "Lost update"}, headers={**h, "If-Match": etag}
    )
    assert stale.status_code == 412
    assert client.get(f"{URL}/{made['id']}", headers=h).get_json()["name"] == "Dee Jones"

    # No organisation type, a new address; a field left out stays.
    cleared = client.patch(
        f"{URL}/{made['id']}",
        json={"organisation_type": None, "email": "dee.jones@example.org"},
        headers=h,
    ).get_json()
    assert cleared["organisation_type"] is None and cleared["email"] == "dee.jones@example.org"
    assert cleared["name"] == "Dee Jones"

    assert client.get(f"{URL}/999999", headers=h).status_code == 404
    assert client.patch(f"{URL}/999999", json={"name": "x"}, headers=h).status_code == 404


def test_patch_to_an_address_another_contact_has_is_a_conflict(
    client: FlaskClient, h: dict[str, str]
) -> None:
    add(client, h, "one@example.org")
    two = add(client, h, "two@example.org")
    response = client.patch(f"{URL}/{two['id']}", json={"email": "ONE@example.org"}, headers=h)
    assert response.status_code == 409
    assert "already a contact" in response.get_json()["detail"]


def test_an_unsubscribed_contact_is_changed_but_never_resubscribed(
    client: FlaskClient, db: Database, h: dict[str, str]
) -> None:
    made = add(client, h, "erin@example.org")
    with db.transaction() as session:
        subscriptions.unsubscribe(session, session.get(Contact, made["id"]), send_id=None)
        lst = ContactList(name="Newsletter")
        session.add(lst)
        session.flush()
        list_id = lst.id
    response = client.post(
        URL, json={"email": "erin@example.org", "name": "Erin", "lists": [list_id]}, headers=h
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["name"] == "Erin" and body["status"] == "unsubscribed"
    assert body["lists"] == []
    assert any(k.startswith("status: still unsubscribed") for k in body["kept"])
    assert any(k.startswith("lists: not joined") for k in body["kept"])
    assert count(db, ListMembership) == 0


def test_a_suppressed_address_is_not_added(
    client: FlaskClient, db: Database, h: dict[str, str]
) -> None:
    suppressed = client.post(
        "/api/v1/suppressions",
        json={"email": "gone@example.org", "reason": "asked by phone"},
        headers=h,
    )
    assert suppressed.status_code == 201
    response = client.post(URL, json={"email": "Gone@Example.org", "name": "G"}, headers=h)
    assert response.status_code == 409
    assert "suppression list" in response.get_json()["detail"]
    assert count(db) == 0
    # Nor may a contact take that address.
    other = add(client, h, "other@example.org")
    taken = client.patch(f"{URL}/{other['id']}", json={"email": "gone@example.org"}, headers=h)
    assert taken.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "x@example.org", "name": "n" * (10 * 1024 * 1024)}, "name"),
        ({"email": "x@example.org", "name": "Alice\x00Smith"}, "name"),
        ({"email": "x@example.org", "organisation": "Line\nbreak"}, "organisation"),
        ({"email": "x@example.org\r\nBcc: victim@example.org"}, "email"),
        ({"email": "x@example.org", "name": "\ud800"}, "name"),
        ({"email": "x@example.org", "tags": [f"t{n}" for n in range(10_000)]}, "tags"),
        ({"email": "x@example.org", "tags": ["a;b"]}, "tags.0"),
        ({"email": "x@example.org", "tags": [""]}, "tags.0"),
        ({"email": "x@example.org", "lists": [2**40]}, "lists.0"),
        ({"email": "x@example.org", "lists": [999999]}, "lists"),
        ({"email": "x@example.org", "organisation_type": 2**40}, "organisation_type"),
        ({"email": "x@example.org", "organisation_type": 999999}, "organisation_type"),
        ({"email": "x@example.org", "organisation_type": "Faith group"}, "organisation_type"),
        ({"email": "x@example.org", "organisation_type": True}, "organisation_type"),
        ({"email": "x@example.org", "lawful_basis": "because"}, "lawful_basis"),
        ({"email": "not an address"}, "email"),
        ({"email": "x@exa mple.org"}, "email"),
        ({"email": "x@example.org", "colour": "blue"}, "colour"),
        ({"name": "No address"}, "email"),
        ({"email": 42}, "email"),
    ],
)
def test_absurd_input_is_a_clear_problem_naming_the_field(
    client: FlaskClient, db: Database, h: dict[str, str], body: dict[str, Any], field: str
) -> None:
    response = client.post(URL, json=body, headers=h)
    assert response.status_code == 422, response.get_json()
    problem = response.get_json()
    assert response.mimetype == "application/problem+json"
    assert problem["errors"][0]["field"] == field, problem
    assert count(db) == 0


def test_unicode_in_odd_places_is_kept(client: FlaskClient, h: dict[str, str]) -> None:
    body = add(
        client,
        h,
        "José.Ñúñez@bücher.example",
        name="Zoë 👩‍🚀 O\u2019Brien",
        tags=["ünïcödé", "日本"],
    )
    assert body["email"] == "José.Ñúñez@bücher.example"
    assert body["name"] == "Zoë 👩‍🚀 O\u2019Brien" and body["tags"] == ["ünïcödé", "日本"]
    found = client.get(URL, query_string={"email": "josé.ñúñez@BÜCHER.example"}, headers=h)
    assert [c["id"] for c in found.get_json()["items"]] == [body["id"]]


def test_ids_out_of_range_are_not_found(client: FlaskClient, h: dict[str, str]) -> None:
    for path in (f"{URL}/{2**31}", f"{URL}/{10**30}", f"{URL}/0"):
        assert client.get(path, headers=h).status_code == 404
    response = client.get(URL, query_string={"list": 10**30}, headers=h)
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "list"


def test_scopes(client: FlaskClient, db: Database) -> None:
    reader = bearer(make_key(db, "contacts:read"))
    writer = bearer(make_key(db, "contacts:write"))
    made = client.post(URL, json={"email": "s@example.org"}, headers=writer)
    assert made.status_code == 201
    contact = f"{URL}/{made.get_json()['id']}"
    assert client.get(URL).status_code == 401
    assert client.post(URL, json={"email": "t@example.org"}).status_code == 401
    assert client.get(URL, headers=writer).status_code == 403
    assert client.get(contact, headers=writer).status_code == 403
    assert client.get(contact, headers=reader).status_code == 200
    assert client.post(URL, json={"email": "t@example.org"}, headers=reader).status_code == 403
    assert client.patch(contact, json={"name": "x"}, headers=reader).status_code == 403
    assert client.delete(contact, headers=reader).status_code == 403
    assert client.delete(contact, headers=writer).status_code == 403
    assert count(db) == 1


def test_the_same_upsert_twice_at_once_makes_one_contact(app: Flask, db: Database) -> None:
    h = bearer(make_key(db))

    def post() -> int:
        with app.test_client() as client:
            response = client.post(
                URL, json={"email": "race@example.org", "name": "Race"}, headers=h
            )
            return response.status_code

    for _ in range(3):
        statuses = together([post, post])
        assert sorted(statuses) in ([200, 201], [200, 200]), statuses
    assert count(db) == 1


def test_a_contact_made_through_the_api_says_so(
    admin_client: FlaskClient, db: Database, h: dict[str, str]
) -> None:
    list_id = admin_client.post(
        "/api/v1/lists", json={"name": "From the CRM"}, headers=h
    ).get_json()["id"]
    made = add(admin_client, h, "crm@example.org", lists=[list_id])
    assert made["source"] == "api"
    synced = add(admin_client, h, "synced@example.org")
    admin_client.put(
        f"/api/v1/lists/{list_id}/members",
        json={"emails": ["crm@example.org", "synced@example.org"]},
        headers=h,
    )
    with db.transaction() as session:
        sources = dict(
            session.execute(
                select(ListMembership.contact_id, ListMembership.source).where(
                    ListMembership.list_id == list_id
                )
            ).all()
        )
    assert sources == {made["id"]: "api", synced["id"]: "api"}
    page = admin_client.get(f"/admin/contacts/{made['id']}").get_data(as_text=True)
    assert "<dt>Source</dt><dd>API</dd>" in page
    assert "(API)" in page
