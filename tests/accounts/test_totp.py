"""The authenticator app's codes: a small clock-drift window, each step used once (even by
two requests at the same moment), and the key sealed at rest."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mailer.accounts import methods
from mailer.accounts.models import LoginAttempt, RecoveryCode, TotpSecret, User
from mailer.accounts.second_factors import code_answers, recovery_codes, totp
from mailer.accounts.second_factors.sealing import TOTP_KEY, KeyRing, SealBroken
from mailer.app import create_app
from mailer.audit import actions
from mailer.audit.models import AuditEntry
from mailer.database import Database
from mailer.web.security import CLOCK
from tests.accounts.totp_helpers import KEYS, T0, code_at, enrol, later
from tests.concurrency import together
from tests.conftest import TEST_SECRET, add_user, csrf_from, login, make_config


@pytest.fixture
def user(db: Database) -> User:
    return add_user(db, email="ada@example.org")


def use(db: Database, user: User, code: str, now: object) -> bool:
    with db.transaction() as session:
        row = totp.confirmed(session, user)
        assert row is not None
        return totp.use_code(session, row, code=code, keys=KEYS, now=now)  # type: ignore[arg-type]


@pytest.mark.parametrize("steps", [-1, 0, 1])
def test_a_code_one_step_either_side_is_accepted(db: Database, user: User, steps: int) -> None:
    key, _ = enrol(db, user)
    now = later(10)
    assert use(db, user, code_at(key, now + timedelta(seconds=30 * steps)), now)


@pytest.mark.parametrize("steps", [-2, 2, -20])
def test_a_code_two_steps_away_is_refused(db: Database, user: User, steps: int) -> None:
    key, _ = enrol(db, user)
    now = later(10)
    assert not use(db, user, code_at(key, now + timedelta(seconds=30 * steps)), now)


def test_a_used_code_is_refused_and_so_is_an_older_one(db: Database, user: User) -> None:
    key, _ = enrol(db, user)
    now = later(10)
    assert use(db, user, code_at(key, now), now)
    # The same code again within its 30 seconds: refused.
    assert not use(db, user, code_at(key, now), now + timedelta(seconds=5))
    # The previous step's code, still inside the drift window: refused as well.
    assert not use(db, user, code_at(key, now - timedelta(seconds=30)), now + timedelta(seconds=5))
    # The next step's code works.
    assert use(db, user, code_at(key, now + timedelta(seconds=30)), now + timedelta(seconds=30))


def test_the_code_that_confirmed_the_setup_cannot_sign_in(db: Database, user: User) -> None:
    key, _ = enrol(db, user)
    assert not use(db, user, code_at(key, T0), T0 + timedelta(seconds=3))


def test_two_requests_with_the_same_code_at_once_succeed_once(db: Database, user: User) -> None:
    key, _ = enrol(db, user)
    now = later(10)
    code = code_at(key, now)

    def attempt() -> bool:
        with db.transaction() as session:
            me = session.get(User, user.id)
            assert me is not None
            answer = code_answers.check(session, me, text=code, keys=KEYS, now=now, ip="10.0.0.1")
            return answer.ok

    for _ in range(3):  # each round a fresh step, as the clock moves on
        results = together([attempt, attempt, attempt, attempt])
        assert sorted(results) == [False, False, False, True]
        now += timedelta(seconds=30)
        code = code_at(key, now)


def test_the_step_is_claimed_by_compare_and_set_without_any_lock(db: Database, user: User) -> None:
    # use_code alone, without the per-address turn code_answers takes: the UPDATE's
    # WHERE last_step < step is what lets one of the requests through.
    key, _ = enrol(db, user)
    now = later(10)
    code = code_at(key, now)

    def attempt() -> bool:
        with db.transaction() as session:
            row = session.scalars(select(TotpSecret)).one()
            return totp.use_code(session, row, code=code, keys=KEYS, now=now)

    assert sorted(together([attempt] * 4)) == [False, False, False, True]


def test_the_key_is_sealed_at_rest_and_opens_after_a_key_rotation(db: Database, user: User) -> None:
    key, _ = enrol(db, user)
    with db.transaction() as session:
        stored = session.scalars(select(TotpSecret.secret)).one()
    assert key not in stored and key.lower() not in stored
    assert len(key) == 32  # 160 bits, as RFC 4226 recommends
    # The key after a rotation, with the old one kept in [app] old_secret_keys.
    rotated = KeyRing.of("a-new-secret-key-" + "y" * 32, [TEST_SECRET])
    assert rotated.unseal(stored, purpose=TOTP_KEY) == key
    with pytest.raises(SealBroken):
        KeyRing.of("a-new-secret-key-" + "y" * 32).unseal(stored, purpose=TOTP_KEY)
    with db.transaction() as session:
        row = totp.confirmed(session, user)
        assert row is not None
        now = later(5)
        assert totp.use_code(session, row, code=code_at(key, now), keys=rotated, now=now)


def test_the_app_counts_only_once_a_code_from_it_was_typed(db: Database, user: User) -> None:
    with db.transaction() as session:
        setup = totp.start(
            session, user, keys=KEYS, issuer="Test Office", now=T0, strong_session=True
        )
        assert totp.confirmed(session, user) is None
        assert setup.uri.startswith("otpauth://totp/Test%20Office:ada%40example.org?")
        assert f"secret={setup.key}" in setup.uri and "issuer=Test%20Office" in setup.uri
        assert "".join(setup.grouped) == setup.key
        assert all(len(part) == 4 for part in setup.grouped)
    with db.transaction() as session:
        # Starting again replaces the unconfirmed key: the first one's codes fail.
        second = totp.start(
            session, user, keys=KEYS, issuer="Test Office", now=T0, strong_session=True
        )
    assert second.key != setup.key
    with pytest.raises(totp.TotpError, match="not right"), db.transaction() as session:
        totp.confirm(
            session,
            user,
            code=code_at(setup.key, T0),
            keys=KEYS,
            now=T0,
            ip="",
            strong_session=True,
        )
    with db.transaction() as session:
        codes = totp.confirm(
            session,
            user,
            code=code_at(second.key, T0),
            keys=KEYS,
            now=T0,
            ip="",
            strong_session=True,
        ).codes
        assert len(codes) == 10
    with db.transaction() as session:
        # Starting again with the app set up makes a replacement beside it (a new phone).
        third = totp.start(
            session, user, keys=KEYS, issuer="Test Office", now=T0, strong_session=True
        )
        assert third.key != second.key
        assert totp.confirmed(session, user) is not None
    with db.transaction() as session:
        added = session.scalars(
            select(AuditEntry).where(AuditEntry.action == actions.SECOND_FACTOR_ADDED)
        ).all()
    assert len(added) == 1


def test_a_key_no_secret_key_opens_is_said_in_words_not_a_crash(db: Database, user: User) -> None:
    key, _ = enrol(db, user)
    other = KeyRing.of("a-new-secret-key-" + "y" * 32)
    with db.transaction() as session:
        answer = code_answers.check(
            session, user, text=code_at(key, later(10)), keys=other, now=later(10), ip=""
        )
    assert not answer.ok and not answer.counted
    assert "ask an admin to reset your second factors" in answer.error


@pytest.mark.parametrize(
    "typed",
    [
        "1" * 10_000,
        "\u0661\u0662\u0663\u0664\u0665\u0666",  # Arabic-Indic: isdigit() says yes
        "\uff11\uff12\uff13\uff14\uff15\uff16",  # full-width digits
        "123\x00456",
        "12345",
        "1234567",
        "",
        "abcde-1234!",
    ],
)
def test_absurd_input_is_not_a_code(typed: str) -> None:
    assert code_answers.read(typed) is None


def test_what_a_person_types_is_read_kindly() -> None:
    assert code_answers.read(" 123 456 ") == ("app", "123456")
    assert code_answers.read("123-456") == ("app", "123456")
    assert code_answers.read("ABCDE-FGH0L") == ("recovery", "abcde-fgh01")
    assert code_answers.read("abcde fgh01") == ("recovery", "abcde-fgh01")


def test_a_wrong_code_is_counted_like_a_wrong_password(db: Database, user: User) -> None:
    enrol(db, user)
    now = later(10)
    with db.transaction() as session:
        answer = code_answers.check(session, user, text="000000", keys=KEYS, now=now, ip="1.2.3.4")
    assert not answer.ok and answer.counted
    with db.transaction() as session:
        failed = session.scalars(
            select(AuditEntry).where(AuditEntry.action == actions.SECOND_FACTOR_FAILED)
        ).one()
        attempt = session.scalars(select(LoginAttempt)).one()
    assert failed.target_id == str(user.id) and failed.ip == "1.2.3.4"
    assert (attempt.email_key, attempt.ip, attempt.succeeded) == (user.email_key, "1.2.3.4", False)


def test_throttled_after_ten_wrong_codes_even_with_the_right_one(db: Database, user: User) -> None:
    key, _ = enrol(db, user)
    now = later(10)
    for _ in range(10):
        with db.transaction() as session:
            code_answers.check(session, user, text="000000", keys=KEYS, now=now, ip="1.2.3.4")
    with db.transaction() as session:
        answer = code_answers.check(
            session, user, text=code_at(key, now), keys=KEYS, now=now, ip="1.2.3.4"
        )
    assert not answer.ok and answer.throttled and "Wait" in answer.error
    # Later, the right code works again.
    after = now + timedelta(minutes=16)
    with db.transaction() as session:
        answer = code_answers.check(
            session, user, text=code_at(key, after), keys=KEYS, now=after, ip="1.2.3.4"
        )
    assert answer.ok and answer.method == methods.PASSWORD_TOTP


# --- the pages ----------------------------------------------------------------------------

KEY_SHOWN = re.compile(r'<code id="setup-key">([A-Z2-7 ]+(?:<br>[A-Z2-7 ]+)*)</code>')
RECOVERY = re.compile(r"<code>([0-9a-z]{5}-[0-9a-z]{5})</code>")


@pytest.fixture
def app_with(tmp_path: Path, db: Database) -> Iterator[Callable[..., Flask]]:
    """An app whose [auth] require_second_factor is the test's, its clock at later(10)."""
    made: list[Flask] = []

    def make(require_second_factor: str = "none") -> Flask:
        config = make_config(
            tmp_path, db.url, auth={"require_second_factor": require_second_factor}
        )
        application = create_app(config)
        application.config["TESTING"] = True
        application.extensions[CLOCK] = lambda: later(10)
        made.append(application)
        return application

    yield make
    for application in made:
        application.extensions["mailer.db"].dispose()


def set_up_through_the_pages(client: FlaskClient, *, now: datetime) -> tuple[str, list[str]]:
    token = csrf_from(client.get("/admin/account/security/").get_data(as_text=True))
    page = client.post("/admin/account/security/app/setup", data={"csrf_token": token})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert '<svg width="' in html and "QR code to scan" in html
    shown = KEY_SHOWN.search(html)
    assert shown is not None
    key = shown.group(1).replace(" ", "").replace("<br>", "")
    wrong = client.post(
        "/admin/account/security/app/confirm", data={"code": "000000", "csrf_token": token}
    )
    assert wrong.status_code == 400
    assert "That code is not right" in wrong.get_data(as_text=True)
    assert shown.group(0) in wrong.get_data(as_text=True)  # the same key, shown again
    done = client.post(
        "/admin/account/security/app/confirm",
        data={"code": code_at(key, now), "csrf_token": token},
    )
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    codes = RECOVERY.findall(done.get_data(as_text=True))
    assert len(set(codes)) == 10
    assert "shown only this once" in done.get_data(as_text=True)
    return key, codes


def test_setting_up_through_the_pages(
    app_with: Callable[..., Flask], db: Database, user: User
) -> None:
    application = app_with()
    client = application.test_client()
    login(client, user.email)
    set_up_through_the_pages(client, now=later(10))
    html = client.get("/admin/account/security/").get_data(as_text=True)
    assert "Set up on" in html and "You have 10 of 10 recovery codes left." in html
    assert not RECOVERY.search(html)
    with db.transaction() as session:
        stored = session.scalars(select(TotpSecret)).one()
    assert stored.confirmed_at is not None


def test_held_at_enrolment_until_the_app_is_set_up(
    app_with: Callable[..., Flask], db: Database, user: User
) -> None:
    application = app_with("everyone")
    client = application.test_client()
    other = application.test_client()  # another browser, signed in with the password too
    assert login(client, user.email).headers["Location"] == "/admin/"
    assert login(other, user.email).status_code == 302
    for path in ("/admin/", "/admin/users/", "/admin/account/"):
        held = client.get(path)
        assert held.status_code == 302 and held.headers["Location"] == "/admin/account/security/"
    set_up_through_the_pages(client, now=later(10))
    assert client.get("/admin/").status_code == 200
    # The other browser, signed in with the password alone, does not live on: setting
    # up the first factor signed it out, and signing in again asks for the app.
    gone = other.get("/admin/account/security/")
    assert gone.status_code == 302 and gone.headers["Location"].startswith("/login")
    assert login(other, user.email).headers["Location"] == "/login/second-factor/"


def test_a_held_browser_confirms_with_an_app_set_up_elsewhere(
    app_with: Callable[..., Flask], db: Database, user: User
) -> None:
    application = app_with("everyone")
    client = application.test_client()
    login(client, user.email)
    key, _ = enrol(db, user)  # set up in another browser
    token = csrf_from(client.get("/admin/account/security/").get_data(as_text=True))
    wrong = client.post(
        "/admin/account/security/app/confirm-session", data={"code": "1", "csrf_token": token}
    )
    assert wrong.status_code == 400 and client.get("/admin/").status_code == 302
    right = client.post(
        "/admin/account/security/app/confirm-session",
        data={"code": code_at(key, later(10)), "csrf_token": token},
    )
    assert right.status_code == 302 and right.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def _signed_in_with_the_app(
    application: Flask, db: Database, user: User
) -> tuple[FlaskClient, str, list[str]]:
    key, codes = enrol(db, user)
    client = application.test_client()
    login(client, user.email)
    token = csrf_from(client.get("/login/second-factor/").get_data(as_text=True))
    signed_in = client.post(
        "/login/second-factor/", data={"code": code_at(key, later(10)), "csrf_token": token}
    )
    assert signed_in.status_code == 302
    application.extensions[CLOCK] = lambda: later(11)
    return client, key, codes


def _remove(client: FlaskClient, code: str) -> tuple[int, str]:
    token = csrf_from(client.get("/admin/account/security/").get_data(as_text=True))
    response = client.post(
        "/admin/account/security/app/remove", data={"code": code, "csrf_token": token}
    )
    return response.status_code, response.get_data(as_text=True)


def test_removing_the_app_needs_a_code_not_only_a_password(
    app_with: Callable[..., Flask], db: Database, user: User
) -> None:
    application = app_with("none")
    client, _, codes = _signed_in_with_the_app(application, db, user)
    status, html = _remove(client, "")
    assert status == 400 and "Type the 6 digits" in html
    status, html = _remove(client, "123456")
    assert status == 400 and "That code is not right" in html
    with db.transaction() as session:
        assert totp.confirmed(session, user) is not None
    # A recovery code will do (the phone is lost).
    status, _ = _remove(client, codes[0])
    assert status == 302
    with db.transaction() as session:
        assert totp.confirmed(session, user) is None
        # With no factor left the recovery codes go too.
        assert session.scalars(select(RecoveryCode)).all() == []
        removed = session.scalars(
            select(AuditEntry).where(AuditEntry.action == actions.SECOND_FACTOR_REMOVED)
        ).one()
    assert removed.target_id == str(user.id)
    # The password alone signs in again.
    fresh = application.test_client()
    assert login(fresh, user.email).headers["Location"] == "/admin/"


def test_the_last_factor_cannot_be_removed_when_the_office_requires_one(
    app_with: Callable[..., Flask], db: Database, user: User
) -> None:
    application = app_with("everyone")
    client, _, codes = _signed_in_with_the_app(application, db, user)
    status, html = _remove(client, codes[0])
    assert status == 400
    assert "set up the new one first" in html
    with db.transaction() as session:
        assert totp.confirmed(session, user) is not None
        # Refused before the code was looked at: it still works.
        assert recovery_codes.left(session, user) == 10


# --- a lost phone ---------------------------------------------------------------------------


def test_a_lost_phone_is_replaced_after_signing_in_with_a_recovery_code(
    app_with: Callable[..., Flask], db: Database, user: User
) -> None:
    application = app_with("everyone")
    old_key, codes = enrol(db, user)
    client = application.test_client()
    login(client, user.email)
    step = csrf_from(client.get("/login/second-factor/").get_data(as_text=True))
    assert (
        client.post(
            "/login/second-factor/", data={"code": codes[0], "csrf_token": step}
        ).status_code
        == 302
    )
    application.extensions[CLOCK] = lambda: later(11)
    token = csrf_from(client.get("/admin/account/security/").get_data(as_text=True))
    page = client.post("/admin/account/security/app/setup", data={"csrf_token": token})
    assert page.status_code == 200, page.get_data(as_text=True)
    shown = KEY_SHOWN.search(page.get_data(as_text=True))
    assert shown is not None
    new_key = shown.group(1).replace(" ", "").replace("<br>", "")
    assert new_key != old_key
    # Until a code from the new phone is typed, the old app still signs in.
    assert use(db, user, code_at(old_key, later(11)), later(11))
    assert "Finish setting up the new phone" in client.get("/admin/account/security/").get_data(
        as_text=True
    )
    wrong = client.post(
        "/admin/account/security/app/confirm",
        data={"code": code_at(old_key, later(11.5)), "csrf_token": token},
    )
    assert wrong.status_code == 400 and "That code is not right" in wrong.get_data(as_text=True)
    done = client.post(
        "/admin/account/security/app/confirm",
        data={"code": code_at(new_key, later(11)), "csrf_token": token},
    )
    assert done.status_code == 200
    html = done.get_data(as_text=True)
    assert "Your new phone is set up" in html and len(set(RECOVERY.findall(html))) == 10
    # Now only the new phone works, and the code that confirmed it is spent.
    assert not use(db, user, code_at(old_key, later(12)), later(12))
    assert not use(db, user, code_at(new_key, later(11)), later(11) + timedelta(seconds=5))
    assert use(db, user, code_at(new_key, later(12)), later(12))
    with db.transaction() as session:
        row = session.scalars(select(TotpSecret)).one()
        assert row.replacement is None and row.replacement_at is None
        assert recovery_codes.left(session, user) == 10  # the new ones


def test_a_replacement_key_is_sealed_like_the_key(db: Database, user: User) -> None:
    enrol(db, user)
    with db.transaction() as session:
        setup = totp.start(
            session, user, keys=KEYS, issuer="Test Office", now=later(1), strong_session=True
        )
        row = session.scalars(select(TotpSecret)).one()
        assert row.replacement and setup.key not in row.replacement
        assert KEYS.unseal(row.replacement, purpose=TOTP_KEY) == setup.key


def test_a_replacement_is_shown_only_to_a_confirmed_browser_and_only_for_a_day(
    db: Database, user: User
) -> None:
    enrol(db, user)
    with db.transaction() as session:
        setup = totp.start(
            session, user, keys=KEYS, issuer="Test Office", now=later(1), strong_session=True
        )

    def shown(*, strong: bool, at: datetime) -> totp.Setup | None:
        with db.transaction() as session:
            return totp.being_set_up(
                session, user, keys=KEYS, issuer="Test Office", strong_session=strong, now=at
            )

    # A browser that signed in with the password alone never sees the new key.
    assert shown(strong=False, at=later(2)) is None
    assert (ready := shown(strong=True, at=later(2))) is not None and ready.key == setup.key
    # A day later the replacement is gone from the page, and cannot be confirmed.
    next_day = later(1) + totp.REPLACEMENT_LASTS + timedelta(minutes=1)
    assert shown(strong=True, at=next_day) is None
    with pytest.raises(totp.TotpError, match="Start again"), db.transaction() as session:
        totp.confirm(
            session,
            user,
            code=code_at(setup.key, next_day),
            keys=KEYS,
            now=next_day,
            ip="",
            strong_session=True,
        )
