"""Recovery codes: ten, random, easy to type, kept only as a keyed hash, each good once;
new ones replace all the old ones and need a code from the app."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from mailer.accounts import methods
from mailer.accounts.models import RecoveryCode, User, UserSession
from mailer.accounts.second_factors import code_answers, recovery_codes
from mailer.audit import actions
from mailer.audit.models import AuditEntry
from mailer.database import Database
from mailer.web.security import CLOCK
from tests.accounts.totp_helpers import KEYS, code_at, enrol, later
from tests.concurrency import together
from tests.conftest import add_user, csrf_from, login

CODE = re.compile(r"[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}")


@pytest.fixture
def user(db: Database) -> User:
    return add_user(db, email="ada@example.org")


def answer(db: Database, user: User, text: str, *, minutes: float = 10) -> code_answers.Answer:
    with db.transaction() as session:
        me = session.get(User, user.id)
        assert me is not None
        return code_answers.check(session, me, text=text, keys=KEYS, now=later(minutes), ip="")


def test_ten_codes_easy_to_type_and_kept_only_as_a_hash(db: Database, user: User) -> None:
    _, codes = enrol(db, user)
    assert len(codes) == len(set(codes)) == 10
    assert all(CODE.fullmatch(code) for code in codes)
    # 32 symbols, ten of them: 50 bits each.
    assert len(recovery_codes.ALPHABET) == 32 and recovery_codes.LENGTH == 10
    assert not set("ilou") & set(recovery_codes.ALPHABET)
    with db.transaction() as session:
        stored = session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10
    for code in codes:
        assert all(code not in h and code.replace("-", "") not in h for h in stored)


def test_a_code_works_once(db: Database, user: User) -> None:
    _, codes = enrol(db, user)
    first = answer(db, user, codes[0].upper())
    assert first.ok and first.method == methods.PASSWORD_RECOVERY and first.recovery_left == 9
    again = answer(db, user, codes[0])
    assert not again.ok and again.counted
    assert answer(db, user, codes[1]).recovery_left == 8
    with db.transaction() as session:
        used = session.scalars(
            select(AuditEntry).where(AuditEntry.action == actions.RECOVERY_CODE_USED)
        ).all()
    assert [entry.detail["left"] for entry in used] == [9, 8]


def test_another_users_code_does_not_work(db: Database, user: User) -> None:
    other = add_user(db, email="bob@example.org")
    enrol(db, user)
    _, theirs = enrol(db, other)
    assert not answer(db, user, theirs[0]).ok
    assert answer(db, other, theirs[0]).ok


def test_two_requests_with_one_code_at_once_succeed_once(db: Database, user: User) -> None:
    _, codes = enrol(db, user)
    results = together([lambda: answer(db, user, codes[3]).ok for _ in range(4)])
    assert sorted(results) == [False, False, False, True]


def test_new_codes_replace_the_old_ones(db: Database, user: User) -> None:
    _, old = enrol(db, user)
    with db.transaction() as session:
        new = recovery_codes.make(session, user, keys=KEYS, now=later(1), ip="")
    assert not set(old) & set(new)
    assert not answer(db, user, old[0]).ok
    assert answer(db, user, new[0]).ok


def _signed_in_with_app(
    app: Flask, client: FlaskClient, db: Database, user: User
) -> tuple[str, list[str]]:
    key, codes = enrol(db, user)
    now = later(10)
    app.extensions[CLOCK] = lambda: now
    login(client, user.email)
    page = client.get("/login/second-factor/")
    response = client.post(
        "/login/second-factor/",
        data={"code": code_at(key, now), "csrf_token": csrf_from(page.get_data(as_text=True))},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    app.extensions[CLOCK] = lambda: later(11)
    return key, codes


def test_making_new_codes_needs_a_second_factor_browser_or_an_app_code(
    app: Flask, client: FlaskClient, db: Database, user: User
) -> None:
    key, codes = _signed_in_with_app(app, client, db, user)
    # A browser signed in with the password alone (forged: setting up the app ended
    # every such session) must type a code from the app.
    with db.transaction() as session:
        session.execute(update(UserSession).values(method="password"))
    page = client.get("/admin/account/security/")
    html = page.get_data(as_text=True)
    assert "You have 10 of 10 recovery codes left." in html
    token = csrf_from(html)
    refused = client.post(
        "/admin/account/security/app/recovery-codes", data={"code": "", "csrf_token": token}
    )
    assert refused.status_code == 400
    assert "Type the 6 digits your authenticator app shows" in refused.get_data(as_text=True)
    # A recovery code is not enough to make new recovery codes, and is not used up.
    with_recovery = client.post(
        "/admin/account/security/app/recovery-codes", data={"code": codes[0], "csrf_token": token}
    )
    assert with_recovery.status_code == 400
    with db.transaction() as session:
        assert recovery_codes.left(session, user) == 10
    made = client.post(
        "/admin/account/security/app/recovery-codes",
        data={"code": code_at(key, later(11)), "csrf_token": token},
    )
    assert made.status_code == 200
    assert made.headers["Cache-Control"] == "no-store"
    shown = CODE.findall(made.get_data(as_text=True))
    assert len(set(shown)) == 10
    assert "Your earlier recovery codes no longer work." in made.get_data(as_text=True)
    # Shown once: not in a cookie, and not on the next page.
    assert not any(code in (client.get_cookie("mailer_session").value or "") for code in shown)  # type: ignore[union-attr]
    after = client.get("/admin/account/security/").get_data(as_text=True)
    assert not any(code in after for code in shown)
    with db.transaction() as session:
        made_entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == actions.RECOVERY_CODES_MADE)
        ).all()
    assert len(made_entries) == 2  # at set-up, and now
    # The browser that signed in with the app makes them without typing a code.
    with db.transaction() as session:
        session.execute(update(UserSession).values(method="password+totp"))
    html = client.get("/admin/account/security/").get_data(as_text=True)
    assert 'id="codes-code"' not in html
    again = client.post(
        "/admin/account/security/app/recovery-codes", data={"csrf_token": csrf_from(html)}
    )
    assert again.status_code == 200 and len(set(CODE.findall(again.get_data(as_text=True)))) == 10
