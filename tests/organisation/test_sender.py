"""The office is the sender: every message the product sends comes from the office's
name at the address it chose among the operator's allowed ones."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from mailer.accounts.models import User
from mailer.app import create_app
from mailer.config import Config
from mailer.config.validation import ConfigError
from mailer.database import Database
from mailer.delivery.models import QueuedMessage
from mailer.delivery.outbox import OutboxTransport
from mailer.organisation.models import OrganisationSettings
from mailer.organisation.service import DEFAULT_ORGANISATION
from tests.bulletins.test_views import create_bulletin
from tests.conftest import add_user, csrf_from, login, make_config
from tests.delivery.helpers import START, Clock, make_send, worker

OFFICE = DEFAULT_ORGANISATION["name"]
PAGE = "/admin/organisation/"
NEWS = "news@pcc.example.org"


def parse(data: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    return message


def choose(db: Database, address: str, **values: Any) -> None:
    with db.transaction() as session:
        org = session.get(OrganisationSettings, 1)
        assert org is not None
        org.from_address = address
        for name, value in values.items():
            setattr(org, name, value)


def delivered(db: Database, config: Config, folder: Path) -> list[EmailMessage]:
    outbox = OutboxTransport(folder)
    worker(db, config, Clock(START), transport=outbox).run_once()
    return [parse(path.read_bytes()) for path in sorted(folder.iterdir())]


def allowing(tmp_path: Path, db: Database, *addresses: str) -> Config:
    return make_config(tmp_path, db.url, mail={"allowed_from": list(addresses)})


def test_a_bulletin_send_comes_from_the_office_with_the_default_config(
    tmp_path: Path, config: Config, db: Database, admin_user: User
) -> None:
    make_send(db, addresses=["sam@example.org"], author=admin_user)
    (message,) = delivered(db, config, tmp_path / "out")
    # The config's own name ("Stakeholder Mailer") only stands in for an office
    # without a name.
    assert message["From"] == f"{OFFICE} <stakeholders@example.org>"


def test_a_send_keeps_the_sender_it_was_approved_with(
    tmp_path: Path, db: Database, admin_user: User
) -> None:
    config = allowing(tmp_path, db, NEWS, "press@pcc.example.org")
    choose(db, NEWS)
    make_send(db, addresses=["sam@example.org"], author=admin_user)
    # Changed after the send was frozen: the send does not follow.
    choose(db, "press@pcc.example.org", name="Another name")
    (message,) = delivered(db, config, tmp_path / "out")
    assert message["From"] == f"{OFFICE} <{NEWS}>"
    assert message["Message-ID"]


def test_an_address_the_operator_withdrew_falls_back_to_from_address(
    tmp_path: Path, db: Database, admin_user: User
) -> None:
    choose(db, NEWS)
    make_send(db, addresses=["sam@example.org"], author=admin_user)
    config = allowing(tmp_path, db)  # the operator has since removed it
    (message,) = delivered(db, config, tmp_path / "out")
    assert message["From"] == f"{OFFICE} <stakeholders@example.org>"


def test_the_frozen_organisation_carries_the_address_only_when_chosen(db: Database) -> None:
    with db.transaction() as session:
        org = session.get(OrganisationSettings, 1)
        assert org is not None
        # Unchosen: the snapshot is as it was, so approved sends keep their hashes.
        assert "from_address" not in org.snapshot()
        org.from_address = NEWS
        assert org.snapshot()["from_address"] == NEWS


@pytest.fixture
def editor(tmp_path: Path, db: Database) -> FlaskClient:
    app = create_app(allowing(tmp_path, db, NEWS))
    add_user(db, email="ed@example.org", role="editor", name="Ed Editor")
    client = app.test_client()
    login(client, "ed@example.org")
    return client


def queued(db: Database) -> list[EmailMessage]:
    with db.transaction() as session:
        rows = session.scalars(select(QueuedMessage).order_by(QueuedMessage.id)).all()
        return [parse(row.data) for row in rows]


def test_a_test_send_comes_from_the_office_at_its_chosen_address(
    editor: FlaskClient, db: Database
) -> None:
    choose(db, NEWS)
    bulletin_id = create_bulletin(editor)
    page = editor.get(f"/admin/bulletins/{bulletin_id}").get_data(as_text=True)
    editor.post(
        f"/admin/bulletins/{bulletin_id}/test",
        data={"csrf_token": csrf_from(page), "addresses": "sam@example.org"},
    )
    (message,) = queued(db)
    assert message["Subject"].startswith("[TEST] ")
    assert message["From"] == f"{OFFICE} <{NEWS}>"


def test_a_sign_up_confirmation_comes_from_the_office_in_its_design(
    client: FlaskClient, db: Database
) -> None:
    from contacts.models import ContactList

    choose(db, "", colour="#5b2a86")
    with db.transaction() as session:
        news = ContactList(name="Community safety news", choosable=True)
        session.add(news)
        session.flush()
        list_id = news.id
    page = client.get("/subscribe").get_data(as_text=True)
    response = client.post(
        "/subscribe",
        data={"csrf_token": csrf_from(page), "email": "sam@example.org", "list": str(list_id)},
    )
    assert response.status_code == 200
    (message,) = queued(db)
    assert message["From"] == f"{OFFICE} <stakeholders@example.org>"
    assert message["Subject"] == f"Confirm: updates from {OFFICE}"
    # Automatic, so no out-of-office reply; one-to-one, so not marked bulk.
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert message["Precedence"] is None
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert "/subscribe/confirm/" in text.get_content()
    assert "Community safety news" in text.get_content()
    body = html.get_content()
    assert "background-color:#5b2a86" in body  # the office's colour
    assert OFFICE in body and "Confirm that you want these updates" in body


def test_config_errors_name_allowed_from(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mailer.db'}"
    for bad, reason in [
        ("news@pcc.example.org", "expected a list of email addresses"),
        (["News <news@pcc.example.org>"], "plain email address"),
        (["not an address"], "plain email address"),
        (["news@localhost"], "not a valid email address"),
        ([3], "plain email address"),
    ]:
        with pytest.raises(ConfigError) as caught:
            make_config(tmp_path, url, mail={"allowed_from": bad})
        assert caught.value.key == "[mail] allowed_from"
        assert "[mail] allowed_from: " in str(caught.value)
        assert reason in caught.value.reason
    config = make_config(
        tmp_path,
        url,
        mail={"allowed_from": ["News@PCC.example.org", "STAKEHOLDERS@example.org"]},
    )
    # The from_address's own address is always allowed, first, and each comes once.
    assert config.mail.allowed_addresses == ("stakeholders@example.org", "news@pcc.example.org")
