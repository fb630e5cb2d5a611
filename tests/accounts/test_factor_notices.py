"""The email a user gets when their own sign-in changes: a second factor added or
removed, new recovery codes made. It says what, when, from which browser and network,
and what to do if it was not them; it is queued with the change, and only with it."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from mailer.accounts.models import Passkey, User, UserSession
from mailer.database import Database
from mailer.delivery.factor_change_notice import KIND
from mailer.delivery.models import QueuedMessage
from mailer.web.security import CLOCK
from tests.accounts.test_passkeys import MANAGE, SECURITY, SoftKey, add_passkey
from tests.accounts.test_totp import set_up_through_the_pages
from tests.accounts.totp_helpers import code_at, later
from tests.conftest import csrf_from, login
from tests.scheduler.reviews.helpers import parse, read

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0"
ADDRESS = "198.51.100.7"


@pytest.fixture
def browser(app: Flask, admin_user: User) -> FlaskClient:
    app.extensions[CLOCK] = lambda: later(10)
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": ADDRESS, "HTTP_USER_AGENT": FIREFOX})
    login(client, admin_user.email)
    return client


def notices(db: Database) -> list[Any]:
    with db.transaction() as session:
        queued = session.scalars(
            select(QueuedMessage).where(QueuedMessage.kind == KIND).order_by(QueuedMessage.id)
        ).all()
        return [read(parse(q.data)) for q in queued]


def words(notice: Any) -> str:
    return " ".join(notice.text.split())


def test_setting_up_and_removing_the_app_and_new_codes_are_each_told(
    app: Flask, browser: FlaskClient, db: Database, admin_user: User
) -> None:
    key, _ = set_up_through_the_pages(browser, now=later(10))
    (added,) = notices(db)
    assert added.to == admin_user.email
    assert added.subject == "An authenticator app was set up"
    text = words(added)
    assert "from Firefox on Windows at network address 198.51.100.7" in text
    assert "If it was not you, someone knows your password" in text
    assert "/admin/account/security/" in text
    token = csrf_from(browser.get(SECURITY).get_data(as_text=True))
    app.extensions[CLOCK] = lambda: later(11)
    made = browser.post("/admin/account/security/app/recovery-codes", data={"csrf_token": token})
    assert made.status_code == 200
    removed = browser.post(
        "/admin/account/security/app/remove",
        data={"code": code_at(key, later(11)), "csrf_token": token},
    )
    assert removed.status_code == 302
    assert [n.subject for n in notices(db)[1:]] == [
        "New recovery codes were made",
        "Your authenticator app was removed",
    ]


def test_a_refused_change_sends_nothing(browser: FlaskClient, db: Database) -> None:
    set_up_through_the_pages(browser, now=later(10))
    token = csrf_from(browser.get(SECURITY).get_data(as_text=True))
    wrong = browser.post(
        "/admin/account/security/app/remove", data={"code": "000000", "csrf_token": token}
    )
    assert wrong.status_code == 400
    assert len(notices(db)) == 1  # only the set-up


def test_adding_and_removing_a_passkey_are_told_with_its_name(
    browser: FlaskClient, db: Database
) -> None:
    assert add_passkey(browser, SoftKey(), "Blue key").status_code == 200
    with db.transaction() as session:
        passkey_id = session.scalars(select(Passkey.id)).one()
        # Removing one needs a browser that signed in with a second factor.
        session.execute(update(UserSession).values(method="password+passkey"))
    token = csrf_from(browser.get(SECURITY).get_data(as_text=True))
    browser.post(f"{MANAGE}/{passkey_id}/remove", data={"csrf_token": token})
    sent = notices(db)
    assert [n.subject for n in sent] == [
        "A passkey was added",
        "A passkey was removed",
    ]
    assert "A passkey was added (Blue key) for your account" in words(sent[0])
