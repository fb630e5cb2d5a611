"""The "stop these emails" link in a review notice: it shows a button, the button turns
that reader's notices off and nobody else's, and a forged, altered, expired or
outdated link changes nothing. Both database backends."""

from __future__ import annotations

from unittest import mock

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mailer.accounts import roles
from mailer.accounts.models import User
from mailer.database import Database
from mailer.public_urls import PublicUrls
from scheduler.reviews import tokens
from tests.conftest import TEST_SECRET, add_user, csrf_from

KEYS = (TEST_SECRET,)


def notices_off(db: Database, email: str) -> bool:
    with db.transaction() as session:
        return bool(session.scalar(select(User.notices_off).where(User.email == email)))


def token_for(db: Database, email: str) -> str:
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.email == email))
        return tokens.make(user, secret_keys=KEYS)


def path(token: str) -> str:
    return PublicUrls("").notices_off(token)


def press(client: FlaskClient, token: str):  # type: ignore[no-untyped-def]
    page = client.get(path(token))
    assert page.status_code == 200
    return client.post(path(token), data={"csrf_token": csrf_from(page.get_data(as_text=True))})


def test_the_link_asks_then_turns_off_only_its_readers_notices(
    app: Flask, db: Database, client: FlaskClient
) -> None:
    add_user(db, email="ann@example.org", role=roles.APPROVER)
    add_user(db, email="bob@example.org", role=roles.APPROVER)
    token = token_for(db, "ann@example.org")
    shown = client.get(path(token)).get_data(as_text=True)
    assert "Stop emails about approvals?" in shown and "ann@example.org" in shown
    assert not notices_off(db, "ann@example.org")  # a GET (a mail scanner) changes nothing
    done = press(client, token)
    assert done.status_code == 200 and "Approval emails turned off" in done.get_data(as_text=True)
    assert notices_off(db, "ann@example.org")
    assert not notices_off(db, "bob@example.org")


def test_a_forged_or_altered_link_changes_nothing(
    app: Flask, db: Database, client: FlaskClient
) -> None:
    add_user(db, email="ann@example.org", role=roles.APPROVER)
    token = token_for(db, "ann@example.org")
    csrf = csrf_from(client.get(path(token)).get_data(as_text=True))
    for bad in ("nonsense", token[:-2] + ("AA" if token[-2:] != "AA" else "BB")):
        assert client.get(path(bad)).status_code == 404
        assert client.post(path(bad), data={"csrf_token": csrf}).status_code == 404
    with db.transaction() as session:
        ann = session.scalar(select(User).where(User.email == "ann@example.org"))
        other_key = tokens.make(ann, secret_keys=("another-secret-key-" * 3,))
    assert client.get(path(other_key)).status_code == 404
    assert not notices_off(db, "ann@example.org")


def test_a_link_for_one_user_cannot_be_pointed_at_another(
    app: Flask, db: Database, client: FlaskClient
) -> None:
    add_user(db, email="ann@example.org", role=roles.APPROVER)
    bob = add_user(db, email="bob@example.org", role=roles.APPROVER)
    with db.transaction() as session:
        ann = session.scalar(select(User).where(User.email == "ann@example.org"))
        # Ann's signed digest with Bob's id cannot be signed without the key; a token
        # made for Ann names Ann only, whatever the page is asked.
        token = tokens.make(ann, secret_keys=KEYS)
        assert tokens.owner(session, token, secret_keys=KEYS) == ann
        assert tokens.owner(session, token, secret_keys=KEYS) != session.get(User, bob.id)
    press(client, token)
    assert notices_off(db, "ann@example.org") and not notices_off(db, "bob@example.org")


def test_an_expired_link_or_one_for_an_old_address_changes_nothing(
    app: Flask, db: Database, client: FlaskClient
) -> None:
    add_user(db, email="ann@example.org", role=roles.APPROVER)
    long_ago = 1_000_000_000.0  # 2001: far more than 90 days ago
    with mock.patch("itsdangerous.timed.time.time", return_value=long_ago):
        old = token_for(db, "ann@example.org")
    assert client.get(path(old)).status_code == 404
    fresh = token_for(db, "ann@example.org")
    with db.transaction() as session:
        ann = session.scalar(select(User).where(User.email == "ann@example.org"))
        ann.email, ann.email_key = "ann@new.example.org", "ann@new.example.org"
    assert client.get(path(fresh)).status_code == 404
    with db.transaction() as session:
        assert not session.scalar(
            select(User).where(User.email_key == "ann@new.example.org")
        ).notices_off


ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def test_a_mail_programs_one_click_turns_notices_off_without_a_form_token(
    app: Flask, db: Database, client: FlaskClient
) -> None:
    add_user(db, email="ann@example.org", role=roles.APPROVER)
    add_user(db, email="bob@example.org", role=roles.APPROVER)
    token = token_for(db, "ann@example.org")
    for _ in range(2):  # the same request twice: the same answer, no redirect
        done = client.post(path(token), data=ONE_CLICK)
        assert done.status_code == 200 and "Approval emails turned off" in done.get_data(
            as_text=True
        )
        assert notices_off(db, "ann@example.org")
    assert not notices_off(db, "bob@example.org")


def test_without_a_form_token_only_the_exact_one_click_body_is_taken(
    app: Flask, db: Database, client: FlaskClient
) -> None:
    add_user(db, email="ann@example.org", role=roles.APPROVER)
    token = token_for(db, "ann@example.org")
    for body in ({}, {"List-Unsubscribe": "one-click"}, {**ONE_CLICK, "notices": "on"}):
        assert client.post(path(token), data=body).status_code == 400
    assert not notices_off(db, "ann@example.org")
    assert client.post(path("nonsense"), data=ONE_CLICK).status_code == 404
    assert not notices_off(db, "ann@example.org")
