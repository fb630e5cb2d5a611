"""The hold at enrolment: with require_second_factor = "approvers_and_admins", an
approver or admin whose browser signed in with a password alone can use nothing under
/admin/ but the pages that set up a second factor, whatever the page and the method,
until this browser shows a factor. Signing out still works; editors are not held; a
role raised while signed in is held from the next request."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from mailer.accounts import methods, roles
from mailer.accounts import service as accounts
from mailer.accounts.models import User, UserSession
from mailer.config import Config
from mailer.database import Database
from tests.conftest import add_user, csrf_from, login, make_config

SECURITY = "/admin/account/security/"
# The blueprints whose pages set up a second factor: only they may be open to someone
# held (the page itself, the authenticator app, passkeys).
SETTING_UP = {"security", "totp", "passkeys"}


@pytest.fixture
def config(tmp_path: Path, db: Database) -> Config:
    return make_config(tmp_path, db.url, auth={"require_second_factor": "approvers_and_admins"})


def _sample_path(rule: str) -> str:
    return re.sub(
        r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", lambda m: "1" if m.group(1) == "int" else "x", rule
    )


def open_endpoints(app: Flask) -> set[str]:
    return {
        name
        for name, view in app.view_functions.items()
        if getattr(view, "open_during_enrolment", False)
    }


def signed_in(app: Flask, db: Database, role: str, email: str) -> tuple[User, FlaskClient]:
    user = add_user(db, email=email, role=role)
    client = app.test_client()
    assert login(client, user.email).status_code == 302
    return user, client


def is_held(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code == 302 and response.headers["Location"] == SECURITY


@pytest.mark.parametrize("role", [roles.APPROVER, roles.ADMIN])
def test_every_admin_page_and_method_holds_a_password_only_session(
    app: Flask, db: Database, role: str
) -> None:
    _user, client = signed_in(app, db, role, f"{role}@example.org")
    opened = open_endpoints(app)
    assert "security.index" in opened
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/admin")]
    assert len(rules) > 50, "every admin page is sampled"
    held = 0
    for rule in rules:
        if rule.endpoint in opened:
            continue
        path = _sample_path(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method)
            assert is_held(response), f"{method} {rule.rule} -> {response.status_code}"
            held += 1
    assert held >= len(rules) - len(opened)
    # An address that is no page at all is held too, saying nothing of what exists.
    assert is_held(client.get("/admin/no-such-page"))
    assert is_held(client.get("/admin"))


def test_only_the_setting_up_pages_are_open_during_enrolment(app: Flask) -> None:
    for endpoint in open_endpoints(app):
        assert endpoint.split(".")[0] in SETTING_UP, endpoint


def test_the_setting_up_page_is_open_and_says_why(app: Flask, db: Database) -> None:
    _user, client = signed_in(app, db, roles.ADMIN, "admin@example.org")
    page = client.get(SECURITY)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Set up a second factor to continue" in html
    # The browsers list is not shown to someone held: it could sign others out.
    assert "Sign out of all other browsers" not in html


def test_a_held_user_cannot_sign_out_other_browsers(app: Flask, db: Database) -> None:
    user, client = signed_in(app, db, roles.ADMIN, "admin@example.org")
    other = app.test_client()
    login(other, user.email)
    token = csrf_from(client.get(SECURITY).get_data(as_text=True))
    response = client.post(
        "/admin/account/security/browsers/others/sign-out", data={"csrf_token": token}
    )
    assert is_held(response)
    assert is_held(other.get("/admin/"))  # still signed in (and held) there


def test_signing_out_still_works_while_held(app: Flask, db: Database) -> None:
    _user, client = signed_in(app, db, roles.APPROVER, "approver@example.org")
    token = csrf_from(client.get(SECURITY).get_data(as_text=True))
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    after = client.get(SECURITY)
    assert after.status_code == 302 and after.headers["Location"].startswith("/login")


def test_an_editor_is_not_held(app: Flask, db: Database) -> None:
    _user, client = signed_in(app, db, roles.EDITOR, "editor@example.org")
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/bulletins/").status_code == 200


def test_a_session_that_showed_a_second_factor_is_not_held(app: Flask, db: Database) -> None:
    user, client = signed_in(app, db, roles.ADMIN, "admin@example.org")
    assert is_held(client.get("/admin/"))
    with db.transaction() as s:
        s.execute(
            update(UserSession)
            .where(UserSession.user_id == user.id)
            .values(method=methods.PASSWORD_TOTP)
        )
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/users/").status_code == 200


@pytest.mark.parametrize("strong", sorted(set(methods.WORDS) - {methods.PASSWORD}))
def test_every_strong_method_passes(app: Flask, db: Database, strong: str) -> None:
    user, client = signed_in(app, db, roles.APPROVER, "approver@example.org")
    with db.transaction() as s:
        s.execute(update(UserSession).where(UserSession.user_id == user.id).values(method=strong))
    assert client.get("/admin/").status_code == 200


def test_an_editor_made_approver_is_held_from_the_next_request(
    app: Flask, db: Database, admin_user: User
) -> None:
    editor, client = signed_in(app, db, roles.EDITOR, "editor@example.org")
    assert client.get("/admin/").status_code == 200
    with db.transaction() as s:
        me = s.get(User, editor.id)
        by = s.get(User, admin_user.id)
        assert me is not None and by is not None
        accounts.change_role(s, me, role=roles.APPROVER, by=by, ip="192.0.2.1")
    assert is_held(client.get("/admin/"))
    assert client.get(SECURITY).status_code == 200


def test_policy_everyone_holds_editors_too(tmp_path: Path, db: Database) -> None:
    from mailer.app import create_app

    app = create_app(make_config(tmp_path, db.url, auth={"require_second_factor": "everyone"}))
    try:
        _user, client = signed_in(app, db, roles.EDITOR, "editor@example.org")
        assert is_held(client.get("/admin/"))
    finally:
        app.extensions["mailer.db"].dispose()


def test_policy_admins_leaves_approvers_alone(tmp_path: Path, db: Database) -> None:
    from mailer.app import create_app

    app = create_app(make_config(tmp_path, db.url, auth={"require_second_factor": "admins"}))
    try:
        _user, client = signed_in(app, db, roles.APPROVER, "approver@example.org")
        assert client.get("/admin/").status_code == 200
        _admin, admin_client = signed_in(app, db, roles.ADMIN, "admin2@example.org")
        assert is_held(admin_client.get("/admin/"))
    finally:
        app.extensions["mailer.db"].dispose()
