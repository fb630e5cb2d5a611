"""What a key wrote, submitted or approved through the API reads as the key's in the
admin (send page, approval panel, history, notices, the two-person refusal), never as
its maker's alone: a reader must not believe a person read and approved it."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mailer.accounts import api_keys
from mailer.accounts.models import User
from mailer.app import create_app
from mailer.bulletins import compose
from mailer.bulletins.models import Bulletin
from mailer.database import Database, utcnow
from mailer.delivery.models import SEND_SCHEDULED, Send
from scheduler.bulletin_sends import approval
from tests.api.helpers import bearer
from tests.api.test_bulletins import BODY, _list
from tests.conftest import add_user, login, make_config
from tests.scheduler.reviews.helpers import notices

KEY = "API key 'Office approver' (made by office@example.org)"
REFUSAL = (
    "An API key you made (API key 'Office approver') wrote this bulletin, so another "
    "approver must approve it (the two-person rule)."
)


def _app(tmp_path: Path, db: Database, *, two_person: bool) -> Iterator[Flask]:
    application = create_app(make_config(tmp_path, db.url, approval={"two_person": two_person}))
    application.config["TESTING"] = True
    yield application
    application.extensions["mailer.db"].dispose()


@pytest.fixture
def open_app(tmp_path: Path, db: Database) -> Iterator[Flask]:
    yield from _app(tmp_path, db, two_person=False)


@pytest.fixture
def strict_app(tmp_path: Path, db: Database) -> Iterator[Flask]:
    yield from _app(tmp_path, db, two_person=True)


def _office_key(db: Database, *scopes: str) -> str:
    """The admin office@example.org makes the key "Office approver"."""
    office = add_user(db, email="office@example.org", role="admin")
    with db.transaction() as session:
        return api_keys.create(
            session,
            name="Office approver",
            scopes=["bulletins:read", "bulletins:write", *scopes],
            expires_at=None,
            created_by=session.get(User, office.id),
            now=utcnow(),
        ).secret


def _submitted(client: FlaskClient, key: str) -> tuple[int, int]:
    """The key writes bulletin and submits it; (bulletin id, send id)."""
    made = client.post("/api/v1/bulletins", json=BODY, headers=bearer(key))
    assert made.status_code == 201, made.get_data(as_text=True)
    bulletin_id = made.get_json()["id"]
    sent = client.post(
        f"/api/v1/bulletins/{bulletin_id}/schedule",
        json={"lists": ["Partners"]},
        headers=bearer(key),
    )
    assert sent.status_code == 201, sent.get_data(as_text=True)
    return bulletin_id, sent.get_json()["id"]


def _page(app: Flask, email: str, bulletin_id: int, send_id: int) -> str:
    reader = app.test_client()
    assert login(reader, email).status_code == 302
    page = reader.get(f"/admin/bulletins/{bulletin_id}/sends/{send_id}")
    assert page.status_code == 200
    return html.unescape(page.get_data(as_text=True))


def _fact(page: str, name: str) -> str:
    found = re.search(rf"<dt>{name}</dt><dd>(.*?)</dd>", page, re.S)
    assert found, name
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1)))


def _history(page: str) -> list[str]:
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item)).strip()
        for item in re.findall(r'<ol class="history"[^>]*>(.*?)</ol>', page, re.S)[0].split("<li>")
        if item.strip()
    ]


def test_the_send_page_and_history_name_the_key_that_submitted_and_approved(open_app, db):
    key = _office_key(db, "bulletins:approve")
    _list(db)
    client = open_app.test_client()
    bulletin_id, send_id = _submitted(client, key)
    approved = client.post(f"/api/v1/bulletins/{bulletin_id}/approve", json={}, headers=bearer(key))
    assert approved.status_code == 200, approved.get_data(as_text=True)
    assert approved.get_json()["state"] == SEND_SCHEDULED

    page = _page(open_app, "office@example.org", bulletin_id, send_id)
    assert _fact(page, "Submitted").endswith(f"by {KEY}")
    assert f"by {KEY} (version" in _fact(page, "Approved")
    steps = _history(page)
    assert len(steps) == 2
    assert steps[0].startswith(f"Approved by {KEY},")
    assert steps[1].startswith(f"Submitted by {KEY},")
    # The maker's account still answers for it (the two-person rule's reading).
    with db.transaction() as session:
        send = session.get(Send, send_id)
        office = session.scalars(select(User).where(User.email == "office@example.org")).one()
        assert send is not None and send.approved_by_id == office.id


def test_the_keys_maker_is_told_their_key_wrote_it(strict_app, db):
    key = _office_key(db)
    add_user(db, email="other@example.org", role="approver")
    _list(db)
    bulletin_id, send_id = _submitted(strict_app.test_client(), key)

    page = _page(strict_app, "office@example.org", bulletin_id, send_id)
    assert REFUSAL in page
    assert "You (office@example.org)" not in page
    assert f"<dt>Written by</dt><dd>{KEY}," in page
    assert f"<dt>Submitted by</dt><dd>{KEY}," in page
    assert f"<li>{KEY}: created, submitted" in page
    assert _fact(page, "Submitted").endswith(f"by {KEY}")

    assert "Approve and schedule" not in page  # no approve form for the maker
    # The other approver may approve it; the notice they got names the key.
    other = _page(strict_app, "other@example.org", bulletin_id, send_id)
    assert "Approve and schedule" in other
    awaiting = [n for n in notices(db) if n.to == "other@example.org"]
    assert awaiting and f"{KEY} submitted the bulletin" in awaiting[0].text


def test_the_refusal_sentence_when_the_maker_also_edited(strict_app, db):
    """What the key created weighs most; the maker's own edit is listed apart."""
    key = _office_key(db)
    _list(db)
    bulletin_id, _ = _submitted(strict_app.test_client(), key)
    with db.transaction() as session:
        bulletin = session.get(Bulletin, bulletin_id)
        office = session.scalars(select(User).where(User.email == "office@example.org")).one()
        assert bulletin is not None
        found = approval.authors(session, bulletin)
        assert [a.name for a in found] == [KEY]
        assert approval.refusal(found, office) == REFUSAL
        compose.note(session, bulletin, by=office, action=compose.EDITED, part="words")
        found = approval.authors(session, bulletin)
        assert [a.name for a in found] == [KEY, "office@example.org"]
        assert approval.refusal(found, office) == REFUSAL


def test_a_person_who_wrote_it_is_still_you(strict_app, db):
    key = _office_key(db)
    _list(db)
    bulletin_id, _ = _submitted(strict_app.test_client(), key)
    with db.transaction() as session:
        bulletin = session.get(Bulletin, bulletin_id)
        office = session.scalars(select(User).where(User.email == "office@example.org")).one()
        assert bulletin is not None
        compose.note(session, bulletin, by=office, action=compose.CREATED)
        found = approval.authors(session, bulletin)
        assert approval.refusal(found, office) == (
            "You (office@example.org) wrote this bulletin, so another approver must approve "
            "it (the two-person rule)."
        )
