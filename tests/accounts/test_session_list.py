"""The browsers a user is signed in on: listed in words a person reads, "This browser"
marked, and signed out one at a time or all but this one, with an audit entry. Nobody
can end a session that is not theirs."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mailer.accounts import roles
from mailer.accounts.models import User, UserSession
from mailer.accounts.session_list import describe
from mailer.audit import actions
from mailer.audit.models import AuditEntry
from mailer.database import Database
from tests.conftest import add_user, csrf_from, login

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
PAGE = "/admin/account/security/"


@pytest.mark.parametrize(
    ("agent", "words"),
    [
        (CHROME_WINDOWS, "Chrome on Windows"),
        (SAFARI_IPHONE, "Safari on iPhone"),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.5 Safari/605.1.15",
            "Safari on Mac",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
            "Firefox on Linux",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.6478.122 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1",
            "Chrome on iPhone",
        ),
        ("curl/8.5.0", "An unknown browser or program"),
        ("", "An unnamed browser"),
    ],
)
def test_a_browser_is_named_simply_from_its_user_agent(agent: str, words: str) -> None:
    assert describe(agent) == words


def browser(app: Flask, agent: str, ip: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = agent
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def signed_in_twice(app: Flask, user: User) -> tuple[FlaskClient, FlaskClient]:
    first = browser(app, CHROME_WINDOWS, "192.0.2.10")
    second = browser(app, SAFARI_IPHONE, "198.51.100.7")
    assert login(first, user.email).status_code == 302
    assert login(second, user.email).status_code == 302
    return first, second


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_page_lists_each_browser_and_marks_this_one(app: Flask, admin_user: User) -> None:
    first, _second = signed_in_twice(app, admin_user)
    page = first.get(PAGE)
    assert page.status_code == 200
    text = text_of(page.get_data(as_text=True))
    assert "You are signed in on 2 browsers" in text
    assert "Chrome on Windows This browser" in text
    assert "Safari on iPhone" in text and "Safari on iPhone This browser" not in text
    assert "192.0.2.10" in text and "198.51.100.7" in text
    assert "Signed in with password" in text
    assert "Sign out of all other browsers" in text


def test_sign_out_of_all_other_browsers_keeps_this_one(
    app: Flask, db: Database, admin_user: User
) -> None:
    first, second = signed_in_twice(app, admin_user)
    third = browser(app, CHROME_WINDOWS, "203.0.113.5")
    login(third, admin_user.email)
    token = csrf_from(first.get(PAGE).get_data(as_text=True))
    response = first.post(
        "/admin/account/security/browsers/others/sign-out",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert "Signed out of 2 other browsers. This browser is still signed in." in text_of(
        response.get_data(as_text=True)
    )
    assert first.get("/admin/").status_code == 200
    for other in (second, third):
        gone = other.get("/admin/")
        assert gone.status_code == 302 and gone.headers["Location"].startswith("/login")
    with db.transaction() as s:
        reasons = sorted(r.ended_reason for r in s.scalars(select(UserSession)))
        entry = s.scalars(
            select(AuditEntry).where(AuditEntry.action == actions.SESSIONS_ENDED)
        ).one()
        assert entry.detail == {"ended": 2}
        assert entry.target_id == str(admin_user.id)
    assert reasons == ["", "signed out from another browser", "signed out from another browser"]


def test_sign_out_of_others_needs_the_csrf_token(app: Flask, admin_user: User) -> None:
    first, second = signed_in_twice(app, admin_user)
    response = first.post("/admin/account/security/browsers/others/sign-out")
    assert response.status_code == 400
    assert second.get("/admin/").status_code == 200


def session_ids(db: Database, user: User) -> list[int]:
    with db.transaction() as s:
        return list(
            s.scalars(
                select(UserSession.id)
                .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
                .order_by(UserSession.id)
            )
        )


def test_signing_out_one_other_browser(app: Flask, db: Database, admin_user: User) -> None:
    first, second = signed_in_twice(app, admin_user)
    _mine, theirs = session_ids(db, admin_user)
    token = csrf_from(first.get(PAGE).get_data(as_text=True))
    response = first.post(
        f"/admin/account/security/browsers/{theirs}/sign-out",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert "Signed out of Safari on iPhone (198.51.100.7)." in text_of(
        response.get_data(as_text=True)
    )
    assert second.get("/admin/").status_code == 302
    assert first.get("/admin/").status_code == 200
    with db.transaction() as s:
        entry = s.scalars(
            select(AuditEntry).where(AuditEntry.action == actions.SESSIONS_ENDED)
        ).one()
        assert "Safari on iPhone" in entry.summary


def test_this_browser_is_not_signed_out_through_the_list(
    app: Flask, db: Database, admin_user: User
) -> None:
    first, _second = signed_in_twice(app, admin_user)
    mine, _theirs = session_ids(db, admin_user)
    token = csrf_from(first.get(PAGE).get_data(as_text=True))
    response = first.post(
        f"/admin/account/security/browsers/{mine}/sign-out",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert "That is this browser" in response.get_data(as_text=True)
    assert first.get("/admin/").status_code == 200


def test_nobody_can_sign_out_someone_elses_browser(
    app: Flask, db: Database, admin_user: User
) -> None:
    """An id is a small number anyone could guess: ending a session is by owner."""
    editor = add_user(db, email="editor@example.org", role=roles.EDITOR)
    victim = browser(app, CHROME_WINDOWS, "192.0.2.99")
    login(victim, admin_user.email)
    (victims_session,) = session_ids(db, admin_user)
    attacker = browser(app, SAFARI_IPHONE, "198.51.100.66")
    login(attacker, editor.email)
    token = csrf_from(attacker.get(PAGE).get_data(as_text=True))
    response = attacker.post(
        f"/admin/account/security/browsers/{victims_session}/sign-out",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert "That browser was already signed out." in response.get_data(as_text=True)
    assert victim.get("/admin/").status_code == 200
    with db.transaction() as s:
        assert (
            s.scalars(select(AuditEntry).where(AuditEntry.action == actions.SESSIONS_ENDED)).all()
            == []
        )


def test_an_ended_session_is_no_longer_listed(app: Flask, db: Database, admin_user: User) -> None:
    first, second = signed_in_twice(app, admin_user)
    token = csrf_from(second.get(PAGE).get_data(as_text=True))
    second.post("/logout", data={"csrf_token": token})
    text = text_of(first.get(PAGE).get_data(as_text=True))
    assert "You are signed in on 1 browser." in text
    assert "Safari on iPhone" not in text
    assert "Sign out of all other browsers" not in text
