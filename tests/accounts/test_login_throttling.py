"""Password guessing is slowed without locking the real person out."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mailer.accounts import throttling
from mailer.accounts.models import LoginAttempt, Passkey, User
from mailer.audit import actions
from mailer.database import Database, utcnow
from mailer.web import sign_in
from mailer.web.security import SLEEP
from tests.accounts.test_passkeys import (
    SoftKey,
    add_passkey,
    alone_options,
    entries,
    post_json,
    second_step,
    sign_in_alone,
    sign_out,
)
from tests.conftest import PASSWORD, add_user, csrf_from, login


def attempt(client: FlaskClient, email: str, password: str, ip: str) -> int:
    page = client.get("/login", environ_base={"REMOTE_ADDR": ip})
    response = client.post(
        "/login",
        data={
            "email": email,
            "password": password,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
        environ_base={"REMOTE_ADDR": ip},
    )
    return response.status_code


@pytest.mark.slow  # over a second: the fast loop leaves it to `make test`
def test_guesses_from_rotating_addresses_do_not_lock_the_owner_out(
    app: Flask, db: Database, admin_user: User
) -> None:
    waits: list[float] = []
    app.extensions[SLEEP] = waits.append
    attacker = app.test_client()
    for n in range(50):
        assert attempt(attacker, admin_user.email, f"guess number {n}", f"198.51.100.{n}") == 401
    # The brake is on: attempts now wait before they are checked...
    assert waits and set(waits) == {throttling.BRAKE_DELAY}
    waits.clear()
    # ...but the owner, from an address of their own, signs in with the right password.
    owner = app.test_client()
    assert attempt(owner, admin_user.email, PASSWORD, "203.0.113.7") == 302
    assert owner.get("/admin/").status_code == 200
    assert waits == [throttling.BRAKE_DELAY]


def test_a_few_failures_do_not_brake_anyone(app: Flask, db: Database, admin_user: User) -> None:
    waits: list[float] = []
    app.extensions[SLEEP] = waits.append
    client = app.test_client()
    for n in range(3):
        attempt(client, admin_user.email, f"typo {n}", "203.0.113.7")
    assert attempt(client, admin_user.email, PASSWORD, "203.0.113.7") == 302
    assert waits == []


def test_repeated_failures_from_one_address_are_refused_there_only(
    app: Flask, db: Database, admin_user: User
) -> None:
    app.extensions[SLEEP] = lambda _seconds: None
    client = app.test_client()
    for n in range(throttling.MAX_FAILURES_ACCOUNT_AND_IP):
        assert attempt(client, admin_user.email, f"guess {n}", "198.51.100.1") == 401
    # Refused from that address even with the right password...
    assert attempt(client, admin_user.email, PASSWORD, "198.51.100.1") == 429
    # ...and not from another.
    assert attempt(app.test_client(), admin_user.email, PASSWORD, "203.0.113.7") == 302


def test_one_address_guessing_across_accounts_is_refused(
    app: Flask, db: Database, admin_user: User
) -> None:
    app.extensions[SLEEP] = lambda _seconds: None
    add_user(db, email="ed@example.org")
    client = app.test_client()
    for n in range(throttling.MAX_FAILURES_PER_IP):
        assert attempt(client, f"someone{n}@example.org", "whatever it is", "198.51.100.9") == 401
    assert attempt(client, "ed@example.org", PASSWORD, "198.51.100.9") == 429
    assert attempt(app.test_client(), "ed@example.org", PASSWORD, "203.0.113.7") == 302


def test_braked_attempts_cannot_take_every_server_thread(
    app: Flask, db: Database, admin_user: User
) -> None:
    app.extensions[SLEEP] = lambda _seconds: None
    attacker = app.test_client()
    for n in range(throttling.BRAKE_FAILURES):
        attempt(attacker, admin_user.email, f"guess number {n}", f"198.51.100.{n}")
    # Other braked attempts are asleep in every slot: this one is told to come back...
    taken = 0
    while throttling.BRAKE_SLOTS.acquire(blocking=False):
        taken += 1
    try:
        owner = app.test_client()
        page = owner.get("/login")
        response = owner.post(
            "/login",
            data={
                "email": admin_user.email,
                "password": PASSWORD,
                "csrf_token": csrf_from(page.get_data(as_text=True)),
            },
        )
        assert response.status_code == 429
        assert "Wait a few seconds and try again" in response.get_data(as_text=True)
    finally:
        for _ in range(taken):
            throttling.BRAKE_SLOTS.release()
    # ...and a moment later gets in.
    assert attempt(owner, admin_user.email, PASSWORD, "203.0.113.7") == 302


# --- the second factor: a limit per account, whatever the address -------------------------


@pytest.fixture
def key() -> SoftKey:
    return SoftKey()


@pytest.fixture
def with_passkey(admin_client: FlaskClient, key: SoftKey) -> FlaskClient:
    assert add_passkey(admin_client, key).status_code == 200
    sign_out(admin_client)
    return admin_client


def wrong_second_factors(db: Database, user: User, count: int) -> None:
    with db.transaction() as session:
        for n in range(count):
            session.add(
                LoginAttempt(
                    at=utcnow(),
                    email_key=user.email_key,
                    ip=f"198.51.100.{n}",
                    user_id=user.id,
                    step=throttling.SECOND_FACTOR,
                )
            )


def test_a_wrong_passkey_as_second_factor_counts_for_the_account(
    with_passkey: FlaskClient, admin_user: User, db: Database, key: SoftKey
) -> None:
    login(with_passkey, admin_user.email)
    assert second_step(with_passkey, key, origin="http://evil.example").status_code == 400
    with db.transaction() as session:
        failed = session.scalars(select(LoginAttempt).where(LoginAttempt.succeeded.is_(False)))
        assert [(a.user_id, a.step) for a in failed] == [(admin_user.id, "second factor")]


def test_too_many_wrong_second_factors_refuse_even_the_right_passkey(
    with_passkey: FlaskClient, admin_user: User, db: Database, key: SoftKey
) -> None:
    login(with_passkey, admin_user.email)
    wrong_second_factors(db, admin_user, throttling.MAX_SECOND_FACTOR_FAILURES)
    refused = second_step(with_passkey, key)
    # Nothing was tried: said as a limit (429), and none of the sign-in's tries spent.
    assert refused.status_code == 429
    assert "Too many wrong second factors" in refused.get_json()["error"]
    # Alone, too: the passkey is that account's factor.
    alone = sign_in_alone(with_passkey, key)
    assert alone.status_code == 429
    assert "Too many wrong second factors" in alone.get_json()["error"]
    assert with_passkey.get("/admin/").status_code == 302
    throttled = entries(db, actions.LOGIN_THROTTLED)
    assert [e.detail for e in throttled] == [{"step": "second factor", "method": "passkey"}] * 2
    # Neither answer was looked at: the passkey's counter was not spent.
    with db.transaction() as session:
        assert session.scalars(select(Passkey.last_used_at)).one() is None


def test_forged_answers_naming_someones_passkey_do_not_lock_its_owner_out(
    with_passkey: FlaskClient, app: Flask, admin_user: User, db: Database, key: SoftKey
) -> None:
    """A credential id is no secret (a pending sign-in lists them): answers that carry
    it but were not signed by the passkey count per address, never against its owner."""
    _, options = alone_options(with_passkey)
    forged = key.get(options)
    forged["response"]["signature"] = forged["response"]["signature"][::-1]
    stranger = app.test_client()
    stranger_csrf, _ = alone_options(stranger)
    for n in range(throttling.MAX_SECOND_FACTOR_FAILURES + 2):
        answer = stranger.post(
            "/login/passkey/",
            data=json.dumps({"credential": forged}),
            content_type="application/json",
            headers={"X-CSRFToken": stranger_csrf},
            environ_base={"REMOTE_ADDR": f"203.0.113.{n}"},
        )
        assert answer.status_code in (400, 429)
    with db.transaction() as session:
        steps = session.scalars(
            select(LoginAttempt.step).where(LoginAttempt.succeeded.is_(False))
        ).all()
    assert steps and set(steps) == {throttling.PASSWORD}
    # The owner signs in with the passkey alone, and with password and passkey.
    assert sign_in_alone(with_passkey, key).status_code == 200
    sign_out(with_passkey)
    login(with_passkey, admin_user.email)
    assert second_step(with_passkey, key).status_code == 200


def test_a_passkey_alone_waits_behind_the_brake(
    app: Flask, with_passkey: FlaskClient, db: Database, key: SoftKey
) -> None:
    waits: list[float] = []
    app.extensions[SLEEP] = waits.append
    with db.transaction() as session:
        for n in range(throttling.BRAKE_FAILURES):
            session.add(LoginAttempt(at=utcnow(), email_key="x@example.org", ip=f"192.0.2.{n}"))
    csrf, options = alone_options(with_passkey)
    taken = 0
    while throttling.BRAKE_SLOTS.acquire(blocking=False):
        taken += 1
    try:
        busy = post_json(with_passkey, "/login/passkey/", csrf, {"credential": key.get(options)})
    finally:
        for _ in range(taken):
            throttling.BRAKE_SLOTS.release()
    assert busy.status_code == 429
    assert busy.get_json() == {"error": sign_in.BRAKED}
    assert sign_in_alone(with_passkey, key).status_code == 200
    assert waits == [throttling.BRAKE_DELAY]
