"""Sign-in sessions end on the server: signing out kills a copied cookie, and a session
ends when left idle for [auth] session_idle or older than [auth] session_max."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mailer.accounts import sessions
from mailer.accounts.models import User, UserSession
from mailer.accounts.second_factors import adding_factors
from mailer.app import create_app
from mailer.config import ConfigError, from_mapping
from mailer.database import Database, utcnow
from mailer.web.security import CLOCK
from tests.conftest import csrf_from, login, make_config
from tests.delivery.helpers import Clock

COOKIE = "mailer_session"


def copy_of(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of ``client``'s session cookie."""
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    other = app.test_client()
    other.set_cookie(COOKIE, cookie.value)
    return other


def sign_out(client: FlaskClient) -> None:
    token = csrf_from(client.get("/admin/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def test_a_cookie_copied_before_sign_out_is_dead_after_it(
    app: Flask, client: FlaskClient, db: Database, admin_user: User
) -> None:
    assert login(client, admin_user.email).status_code == 302
    copy = copy_of(app, client)
    assert copy.get("/admin/").status_code == 200  # the copy works while signed in
    sign_out(client)
    replayed = copy.get("/admin/")
    assert replayed.status_code == 302
    assert replayed.headers["Location"].startswith("/login")
    # A form posted with the copy is not acted on either.
    assert copy.post("/admin/sending/stop", data={"reason": "x"}).status_code == 302
    with db.transaction() as session:
        row = session.scalars(select(UserSession)).one()
        assert row.ended_at is not None and row.ended_reason == "signed out"


def test_signing_out_one_browser_leaves_the_others_signed_in(
    app: Flask, client: FlaskClient, admin_user: User
) -> None:
    other = app.test_client()
    login(client, admin_user.email)
    login(other, admin_user.email)
    sign_out(client)
    assert other.get("/admin/").status_code == 200


def test_the_server_keeps_only_a_hash_of_the_cookies_key(
    client: FlaskClient, db: Database, admin_user: User
) -> None:
    login(client, admin_user.email)
    cookie = client.get_cookie(COOKIE)
    with db.transaction() as session:
        stored = session.scalars(select(UserSession.key_hash)).one()
    assert stored not in cookie.value
    with client.session_transaction() as browser:
        assert browser["session_key"] != stored


def test_an_idle_session_ends_after_session_idle(
    app: Flask, client: FlaskClient, admin_user: User
) -> None:
    clock = Clock()
    app.extensions[CLOCK] = clock
    login(client, admin_user.email)
    clock.advance(hours=1, minutes=59)
    assert client.get("/admin/").status_code == 200  # used: idle time starts again
    clock.advance(hours=1, minutes=59)
    assert client.get("/admin/").status_code == 200
    clock.advance(hours=2, minutes=1)
    assert client.get("/admin/").status_code == 302
    # And it stays ended, even if the clock were turned back.
    clock.advance(hours=-3)
    assert client.get("/admin/").status_code == 302


def test_no_session_outlives_session_max_however_busy(
    app: Flask, client: FlaskClient, admin_user: User
) -> None:
    clock = Clock()
    app.extensions[CLOCK] = clock
    login(client, admin_user.email)
    for _hour in range(11):
        clock.advance(hours=1)
        assert client.get("/admin/").status_code == 200
    clock.advance(minutes=59)
    assert client.get("/admin/").status_code == 200
    clock.advance(minutes=2)
    assert client.get("/admin/").status_code == 302
    assert login(client, admin_user.email).status_code == 302  # signing in again works
    assert client.get("/admin/").status_code == 200


def test_lifetimes_come_from_the_auth_section(tmp_path: Path, db: Database) -> None:
    config = make_config(tmp_path, db.url, auth={"session_idle": "10m", "session_max": "1h"})
    assert config.auth.session_idle == timedelta(minutes=10)
    app = create_app(config)
    app.config["TESTING"] = True
    from tests.conftest import add_user

    add_user(db, email="ed@example.org")
    client = app.test_client()
    clock = Clock()
    app.extensions[CLOCK] = clock
    login(client, "ed@example.org")
    clock.advance(minutes=11)
    assert client.get("/admin/").status_code == 302
    app.extensions["mailer.db"].dispose()


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        ({"session_idle": "soon"}, "[auth] session_idle"),
        ({"session_max": "0s"}, "[auth] session_max"),
        ({"session_idle": "13h"}, "must not be longer than [auth] session_max"),
    ],
)
def test_bad_lifetimes_are_refused_with_the_key(auth: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        from_mapping({"auth": auth}, environ={})
    assert message in str(caught.value)


def test_long_dead_sessions_are_deleted_at_the_next_sign_in(
    app: Flask, client: FlaskClient, db: Database, admin_user: User
) -> None:
    clock = Clock()
    app.extensions[CLOCK] = clock
    login(client, admin_user.email)  # abandoned: the browser never comes back
    sign_out_later = app.test_client()
    login(sign_out_later, admin_user.email)
    sign_out(sign_out_later)
    clock.advance(days=31)
    login(app.test_client(), admin_user.email)
    with db.transaction() as session:
        assert len(session.scalars(select(UserSession)).all()) == 1


# --- saying why, once, to the person whose session someone else ended -------------------


def ended_by(db: Database, user: User, reason: str) -> None:
    with db.transaction() as session:
        me = session.get(User, user.id)
        assert me is not None
        sessions.end_all(session, me, now=utcnow(), reason=reason)


def flashes(client: FlaskClient) -> str:
    page = client.get("/login")
    assert page.status_code == 200
    found = re.findall(r'<div class="flash[^"]*"[^>]*>([^<]*)</div>', page.get_data(as_text=True))
    return " | ".join(found)


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        (
            sessions.FACTORS_RESET,
            "An admin reset your second factors: sign in and set up a new one.",
        ),
        (sessions.SIGNED_OUT_ELSEWHERE, "You were signed out from another browser"),
        (sessions.PASSWORD_CHANGED, "Your password was changed"),
        (sessions.DISABLED, "An admin disabled your account"),
    ],
)
def test_signed_out_by_someone_else_the_sign_in_page_says_why_once(
    client: FlaskClient, db: Database, admin_user: User, reason: str, words: str
) -> None:
    login(client, admin_user.email)
    ended_by(db, admin_user, reason)
    refused = client.get("/admin/contacts/")
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/login")
    assert words in flashes(client)
    # Said once: not on the next visit.
    assert flashes(client) == ""


def test_a_session_past_session_max_says_after_how_long(
    app: Flask, client: FlaskClient, admin_user: User
) -> None:
    clock = Clock()
    app.extensions[CLOCK] = clock
    login(client, admin_user.email)
    clock.advance(hours=12, minutes=1)
    assert client.get("/admin/").status_code == 302
    assert "Your session ended after 12 hours" in flashes(client)


def test_nothing_is_said_for_ones_own_sign_out_or_a_cookie_of_no_real_session(
    app: Flask, client: FlaskClient, db: Database, admin_user: User
) -> None:
    login(client, admin_user.email)
    assert client.get("/admin/").status_code == 200  # "Signed in as" read
    copy = copy_of(app, client)
    sign_out(client)
    assert copy.get("/admin/").status_code == 302
    assert flashes(copy) == ""
    # A session key that matches no session (or someone else's) says nothing either.
    stranger = app.test_client()
    login(stranger, admin_user.email)
    assert stranger.get("/admin/").status_code == 200
    with stranger.session_transaction() as browser:
        browser["session_key"] = "no-such-session"
    assert stranger.get("/admin/").status_code == 302
    assert flashes(stranger) == ""


def test_a_browser_signed_out_by_a_first_factor_elsewhere_is_told_why() -> None:
    words = sessions.why_ended(
        adding_factors.FIRST_FACTOR, idle=timedelta(hours=2), longest=timedelta(hours=12)
    )
    assert "second factor was set up" in words
