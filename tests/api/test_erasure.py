"""DELETE /api/v1/contacts/{id}: the admin's erasure, through a key. Afterwards the
address is found nowhere in the database, the audit log included; only the keyed
hash on the suppression list remains, so the address cannot come back."""

from __future__ import annotations

import json

from flask.testing import FlaskClient
from sqlalchemy import LargeBinary, select

from mailer.accounts.models import ApiKey, IdempotentRequest
from mailer.audit.models import AuditEntry
from mailer.database import Base, Database
from tests.api.helpers import bearer, make_key
from tests.contacts.test_data_rights import all_text

EMAIL = "Erin.Erased@Example.org"


def all_bytes(db: Database) -> bytes:
    """Every binary value in every table (stored answers, uploads): where an address
    could hide as bytes."""
    chunks: list[bytes] = []
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, LargeBinary)]
            for row in connection.execute(select(*columns)) if columns else []:
                chunks.extend(bytes(v) for v in row if v is not None)
    return b"\n".join(chunks).lower()


def remember_answers(db: Database, *bodies: str) -> None:
    """Answers kept for requests sent again with an Idempotency-Key, as the API keeps
    them (JSON bytes)."""
    with db.transaction() as session:
        key_id = session.scalar(select(ApiKey.id))
        assert key_id is not None
        for n, body in enumerate(bodies):
            session.add(
                IdempotentRequest(
                    api_key_id=key_id,
                    key=f"retry-{n}",
                    fingerprint="0" * 64,
                    status=201,
                    body=body.encode(),
                    content_type="application/json",
                )
            )


def stored_answers(db: Database) -> list[bytes]:
    with db.transaction() as session:
        return [bytes(b) for b in session.scalars(select(IdempotentRequest.body))]


def test_erasure_through_the_api_leaves_no_trace(client: FlaskClient, db: Database) -> None:
    h = bearer(make_key(db, name="DPO tool"))
    lst = client.post("/api/v1/lists", json={"name": "Partners"}, headers=h).get_json()
    made = client.post(
        "/api/v1/contacts",
        json={
            "email": EMAIL,
            "name": "Erin Erasmus",
            "organisation": "Erasmus Trust",
            "tags": ["erin-tag"],
            "lists": [lst["id"]],
        },
        headers=h,
    ).get_json()
    client.patch(f"/api/v1/contacts/{made['id']}", json={"role": "Trustee"}, headers=h)
    client.post("/api/v1/suppressions", json={"email": EMAIL, "reason": "asked"}, headers=h)
    assert EMAIL.casefold() in all_text(db)
    other = json.dumps({"email": "someone.else@example.org"})
    remember_answers(db, json.dumps(made), other)
    assert EMAIL.casefold().encode() in all_bytes(db)

    response = client.delete(f"/api/v1/contacts/{made['id']}", headers=h)
    assert response.status_code == 204 and response.data == b""

    text = all_text(db)
    for trace in (EMAIL.casefold(), "erin erasmus", "erasmus trust", "erin-tag", "trustee"):
        assert trace not in text, trace
    assert EMAIL.casefold().encode() not in all_bytes(db)
    assert stored_answers(db) == [other.encode()]
    with db.transaction() as session:
        erased = session.scalar(select(AuditEntry).where(AuditEntry.action == "contact.erased"))
        assert erased is not None
        assert erased.actor_label == "API key 'DPO tool'"
        assert erased.summary == f"Erased contact #{made['id']}"

    # Gone, and it cannot come back; the suppression says why, without the address.
    assert client.get(f"/api/v1/contacts/{made['id']}", headers=h).status_code == 404
    assert client.delete(f"/api/v1/contacts/{made['id']}", headers=h).status_code == 404
    again = client.post("/api/v1/contacts", json={"email": EMAIL.upper()}, headers=h)
    assert again.status_code == 409
    check = client.get("/api/v1/suppressions", query_string={"email": EMAIL}, headers=h)
    body = check.get_json()
    assert body["suppressed"] is True
    assert body["items"][0]["reason"] == "erased" and body["items"][0]["email"] is None
    assert client.delete(f"/api/v1/suppressions/{EMAIL}", headers=h).status_code == 409
    members = client.get(f"/api/v1/lists/{lst['id']}", headers=h).get_json()
    assert members["members"] == 0


def test_erasure_needs_its_own_scope(client: FlaskClient, db: Database) -> None:
    writer = bearer(make_key(db, "contacts:write", "contacts:read"))
    eraser = bearer(make_key(db, "contacts:erase"))
    made = client.post("/api/v1/contacts", json={"email": EMAIL}, headers=writer).get_json()
    assert client.delete(f"/api/v1/contacts/{made['id']}", headers=writer).status_code == 403
    assert client.get(f"/api/v1/contacts/{made['id']}", headers=writer).status_code == 200
    assert client.delete(f"/api/v1/contacts/{made['id']}", headers=eraser).status_code == 204
    assert client.get(f"/api/v1/contacts/{made['id']}", headers=writer).status_code == 404


def test_a_stored_answer_with_escaped_letters_is_forgotten_too(
    client: FlaskClient, db: Database
) -> None:
    h = bearer(make_key(db))
    made = client.post(
        "/api/v1/contacts", json={"email": "Zoë.Ñúñez@example.org"}, headers=h
    ).get_json()
    remember_answers(db, json.dumps(made), json.dumps(made, ensure_ascii=False))
    assert client.delete(f"/api/v1/contacts/{made['id']}", headers=h).status_code == 204
    assert stored_answers(db) == []
