"""/api/v1/bulletins: a draft written, read, edited and submitted for an audience by a
key; approval only with the approve scope while two_person is off; and a key that is
no way round the two-person rule."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from contacts.models import Contact, ContactList, ListMembership
from mailer.accounts import api_keys
from mailer.accounts.models import User
from mailer.app import create_app
from mailer.audit.models import AuditEntry
from mailer.bulletins.models import Bulletin, BulletinContribution
from mailer.database import Database, utcnow
from mailer.delivery.models import SEND_AWAITING_APPROVAL, SEND_DRAFT, SEND_SCHEDULED, Send
from scheduler.bulletin_sends import approval
from tests.api.helpers import bearer, make_key
from tests.conftest import add_user, make_config

BODY = {"subject": "Stakeholder Special: March", "preheader": "News", "body_markdown": "Hello."}


def _list(db: Database, name: str = "Partners", members: int = 2) -> str:
    with db.transaction() as session:
        partners = ContactList(name=name)
        session.add(partners)
        for n in range(members):
            contact = Contact(email=f"p{n}@example.org", email_key=f"p{n}@example.org")
            session.add(contact)
            session.add(ListMembership(list=partners, contact=contact))
    return name


@pytest.fixture
def open_app(tmp_path: Path, db: Database) -> Iterator[Flask]:
    """The app with [approval] two_person off."""
    application = create_app(make_config(tmp_path, db.url, approval={"two_person": False}))
    application.config["TESTING"] = True
    yield application
    application.extensions["mailer.db"].dispose()


def _create(client: FlaskClient, key: str, **changes: str) -> dict:
    answer = client.post("/api/v1/bulletins", json={**BODY, **changes}, headers=bearer(key))
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return answer.get_json()


def _schedule(client: FlaskClient, key: str, bulletin_id: int, **audience: object):
    return client.post(
        f"/api/v1/bulletins/{bulletin_id}/schedule",
        json=audience or {"lists": ["Partners"]},
        headers=bearer(key),
    )


def test_a_key_writes_a_draft_read_back_as_the_command_line_shows_it(client, db):
    key = make_key(db, "bulletins:write", "bulletins:read", name="crm")
    made = _create(client, key)
    assert made["state"] == "draft" and made["sends"] == []
    answer = client.get(made and f"/api/v1/bulletins/{made['id']}", headers=bearer(key))
    assert answer.status_code == 200
    assert answer.get_json()["body_markdown"] == "Hello."
    assert answer.headers["ETag"]
    with db.transaction() as session:
        bulletin = session.get(Bulletin, made["id"])
        assert bulletin.created_by_id is None
        entry = session.scalars(select(AuditEntry).where(AuditEntry.target_type == "bulletin"))
        assert [e.actor_label for e in entry] == ["API key 'crm'"]


def test_create_answers_201_with_location(client, db):
    key = make_key(db, "bulletins:write")
    answer = client.post("/api/v1/bulletins", json=BODY, headers=bearer(key))
    assert answer.status_code == 201
    assert answer.headers["Location"].endswith(f"/api/v1/bulletins/{answer.get_json()['id']}")


def test_a_bad_draft_names_the_field(client, db):
    key = make_key(db, "bulletins:write")
    answer = client.post("/api/v1/bulletins", json={"subject": ""}, headers=bearer(key))
    assert answer.status_code == 422
    assert answer.get_json()["errors"][0]["field"] == "subject"
    answer = client.post(
        "/api/v1/bulletins", json={**BODY, "template_id": 999999}, headers=bearer(key)
    )
    assert answer.status_code == 422
    assert answer.get_json()["errors"][0]["field"] == "template_id"


def test_scopes_are_refused_and_allowed(client, db):
    reader = make_key(db, "bulletins:read")
    assert client.post("/api/v1/bulletins", json=BODY, headers=bearer(reader)).status_code == 403
    assert client.get("/api/v1/bulletins").status_code == 401
    assert client.get("/api/v1/bulletins", headers=bearer(reader)).status_code == 200


def test_list_filters_by_state_and_pages(client, db):
    key = make_key(db)
    _list(db)
    ids = [_create(client, key, subject=f"Number {n}")["id"] for n in range(3)]
    assert _schedule(client, key, ids[1]).status_code == 201
    waiting = client.get("/api/v1/bulletins?state=awaiting_approval", headers=bearer(key))
    assert [b["id"] for b in waiting.get_json()["items"]] == [ids[1]]
    first = client.get("/api/v1/bulletins?limit=2", headers=bearer(key)).get_json()
    assert [b["id"] for b in first["items"]] == ids[:2]
    rest = client.get(
        f"/api/v1/bulletins?limit=2&cursor={first['next_cursor']}", headers=bearer(key)
    ).get_json()
    assert [b["id"] for b in rest["items"]] == ids[2:]
    assert rest["next_cursor"] is None


def test_patch_with_a_stale_etag_is_refused(client, db):
    key = make_key(db)
    made = _create(client, key)
    read = client.get(f"/api/v1/bulletins/{made['id']}", headers=bearer(key))
    etag = read.headers["ETag"]
    first = client.patch(
        f"/api/v1/bulletins/{made['id']}",
        json={"subject": "Changed"},
        headers={**bearer(key), "If-Match": etag},
    )
    assert first.status_code == 200 and first.get_json()["subject"] == "Changed"
    again = client.patch(
        f"/api/v1/bulletins/{made['id']}",
        json={"subject": "Lost update"},
        headers={**bearer(key), "If-Match": etag},
    )
    assert again.status_code == 412


def test_an_edit_after_submission_takes_the_send_back_to_draft(client, db):
    key = make_key(db)
    _list(db)
    made = _create(client, key)
    assert _schedule(client, key, made["id"]).status_code == 201
    answer = client.patch(
        f"/api/v1/bulletins/{made['id']}", json={"body_markdown": "New words."}, headers=bearer(key)
    )
    assert answer.status_code == 200
    assert [s["state"] for s in answer.get_json()["sends"]] == [SEND_DRAFT]


def test_schedule_answers_the_send_with_its_time_and_count(client, db):
    key = make_key(db)
    _list(db, members=3)
    made = _create(client, key)
    answer = _schedule(client, key, made["id"], lists=["partners"], at="2099-01-01T21:30:00")
    # More than a year away: refused in words.
    assert answer.status_code == 409, answer.get_data(as_text=True)
    assert "year" in answer.get_json()["detail"]
    answer = _schedule(client, key, made["id"], lists=["partners"])
    assert answer.status_code == 201, answer.get_data(as_text=True)
    data = answer.get_json()
    assert data["state"] == SEND_AWAITING_APPROVAL
    assert data["reachable"] == 3
    assert data["due_at"] is None  # as soon as it is approved
    assert answer.headers["Location"].endswith(f"/api/v1/sends/{data['id']}")


def test_schedule_moves_the_time_out_of_quiet_hours(client, db):
    key = make_key(db)
    _list(db)
    made = _create(client, key)
    from datetime import timedelta

    day = (utcnow() + timedelta(days=3)).date()
    answer = _schedule(client, key, made["id"], lists=["Partners"], at=f"{day}T22:00:00")
    assert answer.status_code == 201, answer.get_data(as_text=True)
    data = answer.get_json()
    assert data["reasons"], data
    assert data["due_at"] > f"{day}T21:00:00Z"


def test_an_unknown_list_is_named(client, db):
    key = make_key(db)
    made = _create(client, key)
    answer = _schedule(client, key, made["id"], lists=["Nobody"])
    assert answer.status_code == 422
    assert "Nobody" in answer.get_json()["detail"]


def test_a_write_key_cannot_approve(open_app, db):
    client = open_app.test_client()
    key = make_key(db, "bulletins:write", "bulletins:read")
    _list(db)
    made = _create(client, key)
    assert _schedule(client, key, made["id"]).status_code == 201
    answer = client.post(f"/api/v1/bulletins/{made['id']}/approve", json={}, headers=bearer(key))
    assert answer.status_code == 403


def test_approval_is_a_persons_act_while_two_person_is_on(client, db):
    key = make_key(db)  # every scope, approve included
    _list(db)
    made = _create(client, key)
    assert _schedule(client, key, made["id"]).status_code == 201
    answer = client.post(f"/api/v1/bulletins/{made['id']}/approve", json={}, headers=bearer(key))
    assert answer.status_code == 403
    assert "person" in answer.get_json()["detail"]
    with db.transaction() as session:
        assert session.scalars(select(Send.state)).all() == [SEND_AWAITING_APPROVAL]


def test_an_approve_key_approves_while_two_person_is_off(open_app, db):
    client = open_app.test_client()
    key = make_key(db, name="ops")
    _list(db)
    made = _create(client, key)
    nothing = client.post(f"/api/v1/bulletins/{made['id']}/approve", json={}, headers=bearer(key))
    assert nothing.status_code == 409  # nothing awaiting approval
    assert _schedule(client, key, made["id"]).status_code == 201
    stale = client.post(
        f"/api/v1/bulletins/{made['id']}/approve", json={"version": "0" * 64}, headers=bearer(key)
    )
    assert stale.status_code == 409
    answer = client.post(f"/api/v1/bulletins/{made['id']}/approve", json={}, headers=bearer(key))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["state"] == SEND_SCHEDULED
    with db.transaction() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action.like("%approved%"))
        ).one()
        assert entry.actor_label == "API key 'ops'" and "the API" in entry.summary


def test_the_keys_maker_may_not_approve_what_the_key_wrote(client, db):
    """A key is no way round the two-person rule: its maker counts as an author."""
    maker = add_user(db, email="maker@example.org", role="admin")
    other = add_user(db, email="other@example.org", role="approver")
    with db.transaction() as session:
        key = api_keys.create(
            session,
            name="maker's key",
            scopes=["bulletins:write"],
            expires_at=None,
            created_by=session.get(User, maker.id),
            now=utcnow(),
        ).secret
    _list(db)
    made = _create(client, key)
    assert _schedule(client, key, made["id"]).status_code == 201
    with db.transaction() as session:
        bulletin = session.get(Bulletin, made["id"])
        found = approval.authors(session, bulletin)
        assert approval.refusal(found, session.get(User, maker.id)) is not None
        assert approval.refusal(found, session.get(User, other.id)) is None
        rows = session.scalars(select(BulletinContribution.user_email)).all()
        assert set(rows) == {'API key "maker\'s key"'}


def test_unknown_bulletin_is_404(client, db):
    key = make_key(db)
    answer = client.get("/api/v1/bulletins/987654", headers=bearer(key))
    assert answer.status_code == 404
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert json.loads(answer.get_data(as_text=True))["status"] == 404
