from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mailer.accounts import roles
from mailer.accounts import service as accounts
from mailer.accounts.models import User
from mailer.app import create_app
from mailer.audit import actions
from mailer.audit.models import AuditEntry
from mailer.database import Database
from tests.conftest import PASSWORD, add_user, csrf_from, login, make_config


def audit_actions(db: Database) -> list[str]:
    with db.transaction() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


# --- sign-in ------------------------------------------------------------------------------


def test_sign_in_lands_on_the_dashboard_and_is_audited(
    client: FlaskClient, db: Database, admin_user: User
) -> None:
    response = login(client, "ADMIN@example.org")  # the address is matched case-blind
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    page = client.get("/admin/").get_data(as_text=True)
    assert "Dashboard" in page and "Ada Admin" in page
    assert actions.LOGIN in audit_actions(db)


def test_session_cookie_is_httponly_and_samesite_lax(client: FlaskClient, admin_user: User) -> None:
    response = login(client, admin_user.email)
    cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("mailer_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http on loopback


def test_session_cookie_is_secure_behind_https(tmp_path: Path, db: Database) -> None:
    config = make_config(tmp_path, db.url, app={"base_url": "https://consult.example.org"})
    app = create_app(config)
    response = app.test_client().get("/login", base_url="https://consult.example.org")
    cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("mailer_session=")
    )
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_wrong_password_shows_an_error_and_is_audited(
    client: FlaskClient, db: Database, admin_user: User
) -> None:
    response = login(client, admin_user.email, "not the password")
    assert response.status_code == 401
    assert "do not match an active account" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    with db.transaction() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == actions.LOGIN_FAILED)
        ).one()
        assert entry.detail == {"reason": "wrong password"}
        assert entry.actor_label == "admin@example.org"


def test_unknown_address_gets_the_same_answer(client: FlaskClient, db: Database) -> None:
    response = login(client, "nobody@example.org", "whatever it is")
    assert response.status_code == 401
    assert "do not match an active account" in response.get_data(as_text=True)


def test_disabled_user_cannot_sign_in(client: FlaskClient, db: Database) -> None:
    admin = add_user(db, email="boss@example.org")
    editor = add_user(db, email="ed@example.org", role=roles.EDITOR)
    with db.transaction() as session:
        accounts.set_active(
            session, session.get(User, editor.id), active=False, by=session.get(User, admin.id)
        )
    assert login(client, "ed@example.org").status_code == 401


def test_repeated_failures_are_throttled_even_with_the_right_password(
    client: FlaskClient, db: Database, admin_user: User
) -> None:
    for _ in range(accounts.MAX_FAILURES_ACCOUNT_AND_IP):
        assert login(client, admin_user.email, "guess guess guess").status_code == 401
    response = login(client, admin_user.email)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.get_data(as_text=True)
    assert actions.LOGIN_THROTTLED in audit_actions(db)
    # Another account from the same address is not locked by these failures.
    add_user(db, email="other@example.org")
    assert login(client, "other@example.org").status_code == 302


def test_sign_in_without_csrf_token_is_refused(client: FlaskClient, admin_user: User) -> None:
    response = client.post("/login", data={"email": admin_user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)


def test_next_returns_to_the_admin_page_asked_for(client: FlaskClient, admin_user: User) -> None:
    first = client.get("/admin/audit/?page=1")
    assert first.headers["Location"] == "/login?next=/admin/audit/?page%3D1"
    page = client.get(first.headers["Location"]).get_data(as_text=True)
    token = csrf_from(page)
    assert 'value="/admin/audit/?page=1"' in page
    response = client.post(
        "/login",
        data={
            "email": admin_user.email,
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/admin/audit/?page=1",
        },
    )
    assert response.headers["Location"] == "/admin/audit/?page=1"


def test_next_never_leads_off_site(client: FlaskClient, admin_user: User) -> None:
    for evil in ("https://evil.example.net/", "//evil.example.net/admin/", "/\\evil.example.net"):
        response = login(client, admin_user.email, next=evil)
        assert response.headers["Location"] == "/admin/", evil
        client.post(
            "/logout", data={"csrf_token": csrf_from(client.get("/admin/").get_data(as_text=True))}
        )


def test_sign_out_needs_a_post_with_csrf_and_is_audited(
    admin_client: FlaskClient, db: Database
) -> None:
    assert admin_client.get("/logout").status_code == 405
    assert admin_client.post("/logout").status_code == 400  # no token
    token = csrf_from(admin_client.get("/admin/").get_data(as_text=True))
    response = admin_client.post("/logout", data={"csrf_token": token})
    assert response.headers["Location"] == "/login"
    assert admin_client.get("/admin/").status_code == 302
    assert audit_actions(db)[-1] == actions.LOGOUT


def test_security_headers(admin_client: FlaskClient) -> None:
    response = admin_client.get("/admin/")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


# --- users page ---------------------------------------------------------------------------


def test_editors_and_approvers_cannot_manage_users(client: FlaskClient, db: Database) -> None:
    add_user(db, email="ed@example.org", role=roles.EDITOR)
    login(client, "ed@example.org")
    assert client.get("/admin/users/").status_code == 403
    assert client.get("/admin/audit/").status_code == 403
    page = client.get("/admin/").get_data(as_text=True)
    assert "/admin/users/" not in page  # not offered in the navigation either


def test_admin_adds_a_user_with_a_generated_password_shown_once(
    admin_client: FlaskClient, db: Database
) -> None:
    token = csrf_from(admin_client.get("/admin/users/").get_data(as_text=True))
    response = admin_client.post(
        "/admin/users/",
        data={
            "csrf_token": token,
            "email": "Carol@Example.org",
            "name": "Carol Approver",
            "role": "approver",
            "password": "",
        },
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "shown only this once" in page
    password = page.split("<code>")[1].split("</code>")[0]
    fresh = create_app_client(admin_client.application)
    assert login(fresh, "carol@example.org", password).status_code == 302
    assert actions.USER_CREATED in audit_actions(db)


def create_app_client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_adding_the_same_address_twice_is_refused(admin_client: FlaskClient) -> None:
    token = csrf_from(admin_client.get("/admin/users/").get_data(as_text=True))
    response = admin_client.post(
        "/admin/users/",
        data={
            "csrf_token": token,
            "email": "ADMIN@example.org",
            "role": "editor",
            "password": "a long enough password",
        },
    )
    assert response.status_code == 400
    assert "already a user with the address" in response.get_data(as_text=True)


def test_short_password_and_bad_address_are_explained(admin_client: FlaskClient) -> None:
    token = csrf_from(admin_client.get("/admin/users/").get_data(as_text=True))
    short = admin_client.post(
        "/admin/users/",
        data={
            "csrf_token": token,
            "email": "new@example.org",
            "role": "editor",
            "password": "short",
        },
    )
    assert "at least 12 characters" in short.get_data(as_text=True)
    bad = admin_client.post(
        "/admin/users/",
        data={
            "csrf_token": token,
            "email": "not-an-address",
            "role": "editor",
            "password": "a long enough password",
        },
    )
    assert "is not a valid email address" in bad.get_data(as_text=True)


def test_disabling_a_user_ends_their_session(
    app: Flask, admin_client: FlaskClient, db: Database
) -> None:
    editor = add_user(db, email="ed@example.org", role=roles.EDITOR)
    editor_client = app.test_client()
    login(editor_client, "ed@example.org")
    assert editor_client.get("/admin/").status_code == 200
    token = csrf_from(admin_client.get("/admin/users/").get_data(as_text=True))
    response = admin_client.post(
        f"/admin/users/{editor.id}/status", data={"csrf_token": token, "active": "0"}
    )
    assert response.status_code == 302
    assert editor_client.get("/admin/").status_code == 302  # signed out
    assert actions.USER_DISABLED in audit_actions(db)


def test_the_last_admin_cannot_be_demoted_or_disable_themselves(
    admin_client: FlaskClient, admin_user: User, db: Database
) -> None:
    token = csrf_from(admin_client.get("/admin/users/").get_data(as_text=True))
    response = admin_client.post(
        f"/admin/users/{admin_user.id}/role",
        data={"csrf_token": token, "role": "editor"},
        follow_redirects=True,
    )
    assert "only active admin" in response.get_data(as_text=True)
    response = admin_client.post(
        f"/admin/users/{admin_user.id}/status",
        data={"csrf_token": token, "active": "0"},
        follow_redirects=True,
    )
    assert "cannot disable your own account" in response.get_data(as_text=True)
    with db.transaction() as session:
        user = session.get(User, admin_user.id)
        assert user.role == roles.ADMIN and user.active


def test_role_change_is_applied_and_audited(admin_client: FlaskClient, db: Database) -> None:
    editor = add_user(db, email="ed@example.org", role=roles.EDITOR)
    token = csrf_from(admin_client.get("/admin/users/").get_data(as_text=True))
    admin_client.post(
        f"/admin/users/{editor.id}/role", data={"csrf_token": token, "role": "approver"}
    )
    with db.transaction() as session:
        assert session.get(User, editor.id).role == roles.APPROVER
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == actions.USER_ROLE_CHANGED)
        ).one()
        assert entry.detail == {"from": "editor", "to": "approver"}


def test_unknown_user_id_is_404(admin_client: FlaskClient) -> None:
    token = csrf_from(admin_client.get("/admin/users/").get_data(as_text=True))
    response = admin_client.post(
        "/admin/users/99999/role", data={"csrf_token": token, "role": "editor"}
    )
    assert response.status_code == 404


# --- own account --------------------------------------------------------------------------


def test_changing_ones_password_signs_out_other_browsers(
    app: Flask, admin_client: FlaskClient, admin_user: User
) -> None:
    other = app.test_client()
    login(other, admin_user.email)
    page = admin_client.get("/admin/account/").get_data(as_text=True)
    wrong = admin_client.post(
        "/admin/account/",
        data={"csrf_token": csrf_from(page), "current": "nope", "new": "a brand new password"},
    )
    assert wrong.status_code == 400
    assert "current password is not right" in wrong.get_data(as_text=True)
    right = admin_client.post(
        "/admin/account/",
        data={"csrf_token": csrf_from(page), "current": PASSWORD, "new": "a brand new password"},
    )
    assert right.status_code == 302
    assert admin_client.get("/admin/").status_code == 200  # this browser stays in
    assert other.get("/admin/").status_code == 302  # the other one is out
    fresh = app.test_client()
    assert login(fresh, admin_user.email, "a brand new password").status_code == 302


# --- audit page ---------------------------------------------------------------------------


def test_audit_log_lists_and_filters(client: FlaskClient, db: Database) -> None:
    add_user(db, email="appr@example.org", role=roles.APPROVER)
    login(client, "appr@example.org", "wrong password here")
    login(client, "appr@example.org")
    page = client.get("/admin/audit/").get_data(as_text=True)
    assert "Failed sign-in" in page and "Signed in" in page
    filtered = client.get("/admin/audit/?action=login.failed").get_data(as_text=True)
    assert "Failed sign-in (wrong password)" in filtered
    assert "1 entry." in filtered
