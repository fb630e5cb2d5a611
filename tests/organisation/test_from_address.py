"""The Organisation page's from address: chosen among the operator's allowed ones, a
forged one refused, and the page saying truthfully who messages come from."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from mailer.accounts.models import User
from mailer.app import create_app
from mailer.audit.models import AuditEntry
from mailer.database import Database, utcnow
from mailer.delivery.models import Send
from mailer.organisation.models import OrganisationSettings
from scheduler.bulletin_sends import requests
from tests.conftest import add_user, csrf_from, login, make_config
from tests.organisation.test_views import GOOD, PAGE, post, settings
from tests.scheduler.audience import make_list
from tests.scheduler.bulletin_sends.helpers import approve, submit, write

NEWS = "news@pcc.example.org"
PRESS = "press@pcc.example.org"
NAME = GOOD["name"]


def admin_with(tmp_path: Path, db: Database, *allowed: str) -> FlaskClient:
    app = create_app(make_config(tmp_path, db.url, mail={"allowed_from": list(allowed)}))
    add_user(db, email="boss@example.org", role="admin", name="Boss")
    client = app.test_client()
    login(client, "boss@example.org")
    return client


@pytest.fixture
def admin(tmp_path: Path, db: Database) -> FlaskClient:
    return admin_with(tmp_path, db, NEWS, PRESS)


def test_the_office_chooses_among_the_allowed_addresses(admin: FlaskClient, db: Database) -> None:
    page = admin.get(PAGE).get_data(as_text=True)
    # The name the office gives is what messages show, not the configured one.
    assert 'Messages come from: <strong id="sender-now">Office of the Police' in page
    assert "&lt;stakeholders@example.org&gt;" in page
    assert f'<option value="{NEWS}"' in page and f'<option value="{PRESS}"' in page
    assert "as who every email is from" in page

    assert post(admin, **GOOD, from_address=PRESS).status_code == 302
    assert settings(db).from_address == PRESS
    page = admin.get(PAGE).get_data(as_text=True)
    assert f"{NAME} &lt;{PRESS}&gt;" in page
    assert f'<option value="{PRESS}" selected>' in page
    # The dashboard's "Sender" says the same, not the configured default.
    assert f"{NAME} &lt;{PRESS}&gt;" in admin.get("/admin/").get_data(as_text=True)
    # Back to the operator's own address: stored as "" (the default), and audited.
    assert post(admin, **GOOD, from_address="stakeholders@example.org").status_code == 302
    assert settings(db).from_address == ""
    with db.transaction() as session:
        summaries = session.scalars(
            select(AuditEntry.summary).where(AuditEntry.action == "organisation.settings_changed")
        ).all()
    assert sum("from_address" in summary for summary in summaries) == 2


def test_a_forged_address_is_refused_and_nothing_is_saved(admin: FlaskClient, db: Database) -> None:
    before = settings(db).snapshot()
    response = post(admin, **{**GOOD, "phone": "0000", "from_address": "ceo@elsewhere.example"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "ceo@elsewhere.example is not one of the addresses messages may come from" in page
    assert settings(db).snapshot() == before
    # Nor can a header be smuggled in.
    response = post(admin, **{**GOOD, "from_address": f"{NEWS}\r\nBcc: x@example.org"})
    assert response.status_code == 400
    assert settings(db).from_address == ""


def test_one_allowed_address_shows_no_choice_and_takes_none(tmp_path: Path, db: Database) -> None:
    admin = admin_with(tmp_path, db)
    page = admin.get(PAGE).get_data(as_text=True)
    assert 'name="from_address"' not in page
    assert "&lt;stakeholders@example.org&gt;" in page
    response = post(admin, **GOOD, from_address=NEWS)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    # The summary's link lands on the section that says why.
    assert '<a href="#from_address">' in page and 'id="from_address"' in page
    assert f"{NEWS} is not one of the addresses messages may come from" in page


def test_a_withdrawn_address_is_said_and_messages_fall_back(tmp_path: Path, db: Database) -> None:
    with db.transaction() as session:
        org = session.get(OrganisationSettings, 1)
        assert org is not None
        org.from_address = "old@pcc.example.org"
    admin = admin_with(tmp_path, db, NEWS)
    page = admin.get(PAGE).get_data(as_text=True)
    assert "old@pcc.example.org, can no longer be used" in page
    assert "Messages come from stakeholders@example.org instead" in page
    assert "&lt;stakeholders@example.org&gt;" in page


def test_editors_cannot_choose_the_address(tmp_path: Path, db: Database) -> None:
    app = create_app(make_config(tmp_path, db.url, mail={"allowed_from": [NEWS]}))
    add_user(db, email="ed@example.org", role="editor")
    client = app.test_client()
    login(client, "ed@example.org")
    token = csrf_from(client.get("/admin/").get_data(as_text=True))
    response = client.post(PAGE, data={"csrf_token": token, **GOOD, "from_address": NEWS})
    assert response.status_code == 403
    assert settings(db).from_address == ""


def test_choosing_an_address_withdraws_a_waiting_send_and_counts_its_chooser(
    tmp_path: Path, db: Database
) -> None:
    config = make_config(tmp_path, db.url, mail={"allowed_from": [NEWS]})
    editor = add_user(db, email="editor@example.org", role="editor")
    approver = add_user(db, email="approver@example.org", role="approver")
    partners = make_list(db, [("a@example.org", None)])
    bulletin_id = write(db, editor)
    now = utcnow()
    waiting = submit(db, config, bulletin_id, editor, partners, now=now)

    admin = admin_with(tmp_path, db, NEWS)
    page = post(admin, **GOOD, from_address=NEWS)
    assert page.status_code == 302
    with db.transaction() as session:
        send = session.get(Send, waiting)
        assert send is not None and send.state == "draft"
        assert "from_address" in (send.returned_note or "")
    # Whoever chose the sender may not be the second person on what goes from it.
    again = submit(db, config, bulletin_id, editor, partners, now=now)
    with db.transaction() as session:
        chooser = session.scalars(select(User).where(User.email == "boss@example.org")).one()
        session.expunge(chooser)
    with pytest.raises(requests.SendRefused, match="organisation settings"):
        approve(db, config, again, chooser, now=now)
    approve(db, config, again, approver, now=now)
