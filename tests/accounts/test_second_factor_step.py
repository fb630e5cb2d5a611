"""The second step of signing in: the app's code or a recovery code after the password.
Wrong answers are audited and counted with the password failures; absurd input is
refused in words; after the last try the password must be typed again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mailer.accounts import methods, throttling
from mailer.accounts.models import LoginAttempt, User, UserSession
from mailer.audit import actions
from mailer.audit.models import AuditEntry
from mailer.database import Database
from mailer.web.security import CLOCK, SLEEP
from tests.accounts.totp_helpers import code_at, enrol, later
from tests.conftest import add_user, csrf_from, login

STEP = "/login/second-factor/"


@pytest.fixture
def user(db: Database) -> User:
    return add_user(db, email="ada@example.org", name="Ada")


@pytest.fixture
def enrolled(app: Flask, db: Database, user: User) -> tuple[str, list[str]]:
    key, codes = enrol(db, user)
    app.extensions[CLOCK] = lambda: later(10)
    return key, codes


def password_step(client: FlaskClient, user: User) -> str:
    response = login(client, user.email)
    assert response.status_code == 302 and response.headers["Location"] == STEP
    page = client.get(STEP)
    assert page.status_code == 200
    return csrf_from(page.get_data(as_text=True))


def audited(db: Database, action: str) -> list[AuditEntry]:
    with db.transaction() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_password_then_the_apps_code_signs_in(
    client: FlaskClient, db: Database, user: User, enrolled: tuple[str, list[str]]
) -> None:
    key, _ = enrolled
    token = password_step(client, user)
    # Not signed in yet: the admin sends the browser to sign in.
    assert client.get("/admin/").headers["Location"].startswith("/login")
    response = client.post(STEP, data={"code": code_at(key, later(10)), "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    [entry] = audited(db, actions.LOGIN)
    assert entry.detail == {"method": methods.PASSWORD_TOTP}
    with db.transaction() as session:
        assert session.scalars(select(UserSession.method)).one() == methods.PASSWORD_TOTP


def test_spaces_in_the_code_are_fine(
    client: FlaskClient, user: User, enrolled: tuple[str, list[str]]
) -> None:
    key, _ = enrolled
    token = password_step(client, user)
    code = code_at(key, later(10))
    response = client.post(STEP, data={"code": f" {code[:3]} {code[3:]} ", "csrf_token": token})
    assert response.status_code == 302


def test_a_code_used_once_does_not_sign_in_another_browser(
    app: Flask, client: FlaskClient, db: Database, user: User, enrolled: tuple[str, list[str]]
) -> None:
    key, _ = enrolled
    code = code_at(key, later(10))
    token = password_step(client, user)
    assert client.post(STEP, data={"code": code, "csrf_token": token}).status_code == 302
    other = app.test_client()
    token = password_step(other, user)
    replay = other.post(STEP, data={"code": code, "csrf_token": token})
    assert replay.status_code == 400
    assert "That code is not right" in replay.get_data(as_text=True)
    assert other.get("/admin/").status_code == 302


def test_a_wrong_code_is_audited_and_counted_with_password_failures(
    client: FlaskClient, db: Database, user: User, enrolled: tuple[str, list[str]]
) -> None:
    token = password_step(client, user)
    response = client.post(STEP, data={"code": "000000", "csrf_token": token})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "That code is not right" in html and "4 tries left" in html
    [failed] = audited(db, actions.SECOND_FACTOR_FAILED)
    assert failed.target_id == str(user.id)
    with db.transaction() as session:
        attempts = session.scalars(select(LoginAttempt).order_by(LoginAttempt.id)).all()
    assert [(a.email_key, a.succeeded) for a in attempts] == [
        (user.email_key, True),  # the password
        (user.email_key, False),  # the code
    ]


def test_after_the_last_try_the_password_is_needed_again(
    client: FlaskClient, user: User, enrolled: tuple[str, list[str]]
) -> None:
    key, _ = enrolled
    token = password_step(client, user)
    for _ in range(4):
        assert client.post(STEP, data={"code": "000000", "csrf_token": token}).status_code == 400
    last = client.post(STEP, data={"code": "000000", "csrf_token": token})
    assert last.status_code == 302 and last.headers["Location"] == "/login"
    assert "Type your password again" in client.get("/login").get_data(as_text=True)
    # Even the right code now needs the password first.
    again = client.post(STEP, data={"code": code_at(key, later(10)), "csrf_token": token})
    assert again.status_code == 302 and again.headers["Location"] == "/login"


def test_a_cookie_sent_again_with_its_tries_reset_does_not_allow_more_guesses(
    app: Flask, client: FlaskClient, user: User, enrolled: tuple[str, list[str]]
) -> None:
    key, _ = enrolled
    token = password_step(client, user)
    fresh = client.get_cookie("mailer_session")
    assert fresh is not None
    guesses = 0
    # Nine wrong answers plus the password failures limit (ten per account and address).
    for _ in range(10):
        client.set_cookie("mailer_session", fresh.value)
        response = client.post(STEP, data={"code": "000000", "csrf_token": token})
        guesses += response.status_code == 400
    client.set_cookie("mailer_session", fresh.value)
    refused = client.post(STEP, data={"code": code_at(key, later(10)), "csrf_token": token})
    assert refused.status_code == 429
    assert "Wait" in refused.get_data(as_text=True)
    assert guesses == 10


@pytest.mark.parametrize(
    "typed",
    ["7" * 10_000, "\u0661\u0662\u0663\u0664\u0665\u0666", "12 34 5", "<script>"],
)
def test_absurd_input_gets_a_sentence_not_an_error_page(
    client: FlaskClient, db: Database, user: User, enrolled: tuple[str, list[str]], typed: str
) -> None:
    token = password_step(client, user)
    response = client.post(STEP, data={"code": typed, "csrf_token": token})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Type the 6 digits your authenticator app shows" in html
    assert "<script>" not in html
    assert audited(db, actions.LOGIN) == []


def test_a_nul_in_the_code_is_a_bad_request_not_a_crash(
    client: FlaskClient, db: Database, user: User, enrolled: tuple[str, list[str]]
) -> None:
    token = password_step(client, user)
    response = client.post(STEP, data={"code": "12\x003456", "csrf_token": token})
    assert response.status_code == 400
    assert audited(db, actions.LOGIN) == []


def test_a_recovery_code_signs_in_once_and_says_how_many_are_left(
    app: Flask, client: FlaskClient, db: Database, user: User, enrolled: tuple[str, list[str]]
) -> None:
    _, codes = enrolled
    token = password_step(client, user)
    response = client.post(STEP, data={"code": codes[0], "csrf_token": token})
    assert response.status_code == 302
    page = client.get("/admin/").get_data(as_text=True)
    assert "You have 9 recovery codes left." in page
    [entry] = audited(db, actions.LOGIN)
    assert entry.detail == {"method": methods.PASSWORD_RECOVERY}
    assert len(audited(db, actions.RECOVERY_CODE_USED)) == 1
    other = app.test_client()
    token = password_step(other, user)
    assert other.post(STEP, data={"code": codes[0], "csrf_token": token}).status_code == 400


def test_few_codes_left_says_to_make_new_ones(
    client: FlaskClient, db: Database, user: User, enrolled: tuple[str, list[str]]
) -> None:
    _, codes = enrolled
    for code in codes[:7]:
        token = password_step(client, user)
        assert client.post(STEP, data={"code": code, "csrf_token": token}).status_code == 302
        client.get("/admin/")  # the flash is read
        token = csrf_from(client.get("/admin/").get_data(as_text=True))
        client.post("/logout", data={"csrf_token": token})
    token = password_step(client, user)
    client.post(STEP, data={"code": codes[7], "csrf_token": token})
    page = client.get("/admin/").get_data(as_text=True)
    assert "You have 2 recovery codes left. Make new ones soon" in page


def test_a_pending_sign_in_runs_out(
    app: Flask, client: FlaskClient, user: User, enrolled: tuple[str, list[str]]
) -> None:
    key, _ = enrolled
    token = password_step(client, user)
    app.extensions[CLOCK] = lambda: later(10) + timedelta(minutes=6)
    late = client.post(
        STEP, data={"code": code_at(key, later(10) + timedelta(minutes=6)), "csrf_token": token}
    )
    assert late.status_code == 302 and late.headers["Location"] == "/login"


def test_wrong_codes_from_many_addresses_hit_a_limit_for_the_account(
    app: Flask, client: FlaskClient, db: Database, user: User, enrolled: tuple[str, list[str]]
) -> None:
    key, _ = enrolled
    app.extensions[SLEEP] = lambda _seconds: None
    token = password_step(client, user)
    fresh = client.get_cookie("mailer_session")
    assert fresh is not None
    # One pending cookie, sent again with its tries reset, from a new address each time:
    # no limit per address or per cookie is ever reached.
    for n in range(throttling.MAX_SECOND_FACTOR_FAILURES):
        client.set_cookie("mailer_session", fresh.value)
        wrong = client.post(
            STEP,
            data={"code": "000000", "csrf_token": token},
            environ_base={"REMOTE_ADDR": f"198.51.100.{n}"},
        )
        assert wrong.status_code == 400
    # The account's limit is: even the right code, from yet another address, is refused
    # without being looked at (it stays unused), in words.
    right = code_at(key, later(10))
    client.set_cookie("mailer_session", fresh.value)
    refused = client.post(
        STEP, data={"code": right, "csrf_token": token}, environ_base={"REMOTE_ADDR": "192.0.2.1"}
    )
    assert refused.status_code == 429
    html = refused.get_data(as_text=True)
    assert "Too many wrong second factors have been tried for this account" in html
    assert "Wait 15 minutes" in html
    assert client.get("/admin/").status_code == 302
    [throttled] = audited(db, actions.LOGIN_THROTTLED)
    assert throttled.target_id == str(user.id) and throttled.ip == "192.0.2.1"
    assert throttled.detail == {"step": "second factor", "method": "code"}
    with db.transaction() as session:
        steps = session.scalars(select(LoginAttempt.step).order_by(LoginAttempt.id)).all()
    assert steps == ["password"] + ["second factor"] * throttling.MAX_SECOND_FACTOR_FAILURES
    # Once the window has passed, the owner signs in as ever.
    afterwards = later(10) + throttling.WINDOW + timedelta(minutes=1)
    app.extensions[CLOCK] = lambda: afterwards
    owner = app.test_client()
    token = password_step(owner, user)
    done = owner.post(STEP, data={"code": code_at(key, afterwards), "csrf_token": token})
    assert done.status_code == 302 and owner.get("/admin/").status_code == 200


def test_the_second_step_waits_behind_the_brake_like_the_password(
    app: Flask, client: FlaskClient, db: Database, user: User, enrolled: tuple[str, list[str]]
) -> None:
    key, _ = enrolled
    waits: list[float] = []
    app.extensions[SLEEP] = waits.append
    token = password_step(client, user)
    with db.transaction() as session:
        for n in range(throttling.BRAKE_FAILURES):
            session.add(
                LoginAttempt(at=later(9), email_key=f"x{n}@example.org", ip=f"198.51.100.{n}")
            )
    # Every slot busy with other braked attempts: refused for now, in words, not counted.
    taken = 0
    while throttling.BRAKE_SLOTS.acquire(blocking=False):
        taken += 1
    try:
        busy = client.post(STEP, data={"code": "000000", "csrf_token": token})
    finally:
        for _ in range(taken):
            throttling.BRAKE_SLOTS.release()
    assert busy.status_code == 429
    assert "Wait a few seconds and try again" in busy.get_data(as_text=True)
    # A slot free: the answer waits its turn, then is checked.
    done = client.post(STEP, data={"code": code_at(key, later(10)), "csrf_token": token})
    assert done.status_code == 302
    assert waits == [throttling.BRAKE_DELAY]
