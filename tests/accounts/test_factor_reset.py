"""An admin resets another user's second factors: the app, passkeys and recovery codes
go, every session of theirs ends, the audit log says who did it, and the user is told
by email. Never for oneself, never by a non-admin, never without the CSRF token."""

from __future__ import annotations

import re
from datetime import datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from mailer.accounts import roles
from mailer.accounts.models import Passkey, RecoveryCode, TotpSecret, User, UserSession
from mailer.accounts.second_factors import factors
from mailer.audit import actions
from mailer.audit.models import AuditEntry
from mailer.database import Database, utcnow
from mailer.delivery.factor_reset_notice import KIND
from mailer.delivery.models import QueuedMessage
from tests.conftest import add_user, csrf_from, login
from tests.scheduler.reviews.helpers import parse, read


def give_factors(db: Database, user: User, *, now: datetime | None = None) -> None:
    now = now or utcnow()
    with db.transaction() as s:
        s.add(TotpSecret(user_id=user.id, secret="not-a-real-key", confirmed_at=now))
        s.add(
            Passkey(
                user_id=user.id,
                credential_id=f"cred-{user.id}",
                public_key=b"key",
                name="Work YubiKey",
            )
        )
        for n in range(10):
            s.add(RecoveryCode(user_id=user.id, code_hash=f"{user.id}-{n:02d}" + "0" * 58))


def counts(db: Database, user: User) -> tuple[int, int, int]:
    with db.transaction() as s:
        return tuple(  # type: ignore[return-value]
            int(s.scalar(select(func.count()).select_from(m).where(m.user_id == user.id)) or 0)
            for m in (TotpSecret, Passkey, RecoveryCode)
        )


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def signed_in_colleague(app: Flask, db: Database) -> tuple[User, FlaskClient]:
    """An approver signed in (with a password: the policy on loopback asks for nothing
    more), who then sets up factors, as if they had used them at sign-in."""
    colleague = add_user(db, email="colleague@example.org", role=roles.APPROVER, name="Cole")
    browser = app.test_client()
    assert login(browser, colleague.email).status_code == 302
    give_factors(db, colleague)
    return colleague, browser


def test_the_admin_sees_a_users_factors_and_browsers(
    app: Flask, admin_client: FlaskClient, db: Database
) -> None:
    colleague, _ = signed_in_colleague(app, db)
    page = admin_client.get(f"/admin/users/{colleague.id}/")
    assert page.status_code == 200
    text = text_of(page.get_data(as_text=True))
    assert "Authenticator app Set up" in text
    assert "Work YubiKey" in text
    assert "Recovery codes left 10" in text
    assert "Cole is signed in on 1 browser." in text
    listing = text_of(admin_client.get("/admin/users/").get_data(as_text=True))
    assert "App, 1 passkey" in listing


def test_reset_asks_first_then_removes_factors_ends_sessions_audits_and_emails(
    app: Flask, admin_client: FlaskClient, db: Database, admin_user: User
) -> None:
    colleague, their_browser = signed_in_colleague(app, db)
    confirm = admin_client.get(f"/admin/users/{colleague.id}/reset-second-factors")
    assert confirm.status_code == 200
    assert "Reset the second factors of Cole?" in text_of(confirm.get_data(as_text=True))
    assert counts(db, colleague) == (1, 1, 10)  # asking changed nothing

    done = admin_client.post(
        f"/admin/users/{colleague.id}/reset-second-factors",
        data={"csrf_token": csrf_from(confirm.get_data(as_text=True))},
        follow_redirects=True,
    )
    assert "Reset the second factors of colleague@example.org" in done.get_data(as_text=True)
    assert counts(db, colleague) == (0, 0, 0)
    gone = their_browser.get("/admin/")
    assert gone.status_code == 302 and gone.headers["Location"].startswith("/login")
    with db.transaction() as s:
        assert not factors.has_any(s, colleague.id)
        reasons = set(
            s.scalars(select(UserSession.ended_reason).where(UserSession.user_id == colleague.id))
        )
        assert reasons == {"second factors reset"}
        entry = s.scalars(
            select(AuditEntry).where(AuditEntry.action == actions.SECOND_FACTORS_RESET)
        ).one()
        assert entry.actor_label == admin_user.email
        assert entry.target_id == str(colleague.id)
        assert entry.detail == {
            "authenticator_app": True,
            "passkeys": 1,
            "recovery_codes": 10,
            "sessions_ended": 1,
        }
        (queued,) = s.scalars(select(QueuedMessage).where(QueuedMessage.kind == KIND)).all()
        notice = read(parse(queued.data))
    assert notice.to == colleague.email
    assert notice.subject == "Your second factors were reset"
    text = " ".join(notice.text.split())
    assert "Ada Admin (admin@example.org), an admin, reset the second factors" in text
    assert "your authenticator app, 1 passkey and your recovery codes" in text
    assert "If you did not ask for this" in text
    # The admin's own session is untouched.
    assert admin_client.get("/admin/").status_code == 200


def test_an_admin_cannot_reset_their_own_factors(
    admin_client: FlaskClient, db: Database, admin_user: User
) -> None:
    """A stolen password must not be enough to strip the factor that stops the thief."""
    give_factors(db, admin_user)
    page = admin_client.get(f"/admin/users/{admin_user.id}/reset-second-factors")
    assert "You cannot reset your own second factors" in page.get_data(as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    refused = admin_client.post(
        f"/admin/users/{admin_user.id}/reset-second-factors",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert "You cannot reset your own second factors" in refused.get_data(as_text=True)
    assert counts(db, admin_user) == (1, 1, 10)
    with db.transaction() as s:
        assert s.scalars(select(QueuedMessage)).all() == []
        assert (
            s.scalars(
                select(AuditEntry).where(AuditEntry.action == actions.SECOND_FACTORS_RESET)
            ).all()
            == []
        )


def test_an_approver_may_not_reset_anyone(app: Flask, db: Database, admin_user: User) -> None:
    give_factors(db, admin_user)
    approver = add_user(db, email="approver@example.org", role=roles.APPROVER)
    client = app.test_client()
    login(client, approver.email)
    token = csrf_from(client.get("/admin/account/security/").get_data(as_text=True))
    assert client.get(f"/admin/users/{admin_user.id}/").status_code == 403
    refused = client.post(
        f"/admin/users/{admin_user.id}/reset-second-factors", data={"csrf_token": token}
    )
    assert refused.status_code == 403
    assert counts(db, admin_user) == (1, 1, 10)


def test_reset_needs_the_csrf_token(app: Flask, admin_client: FlaskClient, db: Database) -> None:
    colleague, their_browser = signed_in_colleague(app, db)
    refused = admin_client.post(f"/admin/users/{colleague.id}/reset-second-factors")
    assert refused.status_code == 400
    assert counts(db, colleague) == (1, 1, 10)
    assert their_browser.get("/admin/").status_code == 200


def test_an_unknown_user_is_not_found(admin_client: FlaskClient) -> None:
    assert admin_client.get("/admin/users/9999/").status_code == 404
    token = csrf_from(admin_client.get("/admin/users/").get_data(as_text=True))
    assert (
        admin_client.post(
            "/admin/users/9999/reset-second-factors", data={"csrf_token": token}
        ).status_code
        == 404
    )


def test_an_admin_signs_a_user_out_of_every_browser(
    app: Flask, admin_client: FlaskClient, db: Database
) -> None:
    colleague, their_browser = signed_in_colleague(app, db)
    token = csrf_from(admin_client.get(f"/admin/users/{colleague.id}/").get_data(as_text=True))
    done = admin_client.post(
        f"/admin/users/{colleague.id}/sign-out", data={"csrf_token": token}, follow_redirects=True
    )
    assert "Signed colleague@example.org out of 1 browser." in done.get_data(as_text=True)
    assert their_browser.get("/admin/").status_code == 302
    assert counts(db, colleague) == (1, 1, 10)  # factors are kept
    with db.transaction() as s:
        entry = s.scalars(
            select(AuditEntry).where(AuditEntry.action == actions.SESSIONS_ENDED)
        ).one()
        assert entry.target_id == str(colleague.id) and entry.detail == {"ended": 1}
