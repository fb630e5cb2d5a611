"""The authenticator app's codes: a small clock-drift window, each step used once (even by
two requests at the same moment), and the key sealed at rest."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from mailer.accounts import code_answers, methods, totp
from mailer.accounts.models import LoginAttempt, TotpSecret, User
from mailer.accounts.sealing import TOTP_KEY, KeyRing, SealBroken
from mailer.audit import actions
from mailer.audit.models import AuditEntry
from mailer.database import Database
from tests.accounts.totp_helpers import KEYS, T0, code_at, enrol, later
from tests.concurrency import together
from tests.conftest import TEST_SECRET, add_user


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
        setup = totp.start(session, user, keys=KEYS, issuer="Test Office", now=T0)
        assert totp.confirmed(session, user) is None
        assert setup.uri.startswith("otpauth://totp/Test%20Office:ada%40example.org?")
        assert f"secret={setup.key}" in setup.uri and "issuer=Test%20Office" in setup.uri
        assert setup.grouped.replace(" ", "") == setup.key
        assert all(len(part) == 4 for part in setup.grouped.split())
    with db.transaction() as session:
        # Starting again replaces the unconfirmed key: the first one's codes fail.
        second = totp.start(session, user, keys=KEYS, issuer="Test Office", now=T0)
    assert second.key != setup.key
    with pytest.raises(totp.TotpError, match="not right"), db.transaction() as session:
        totp.confirm(session, user, code=code_at(setup.key, T0), keys=KEYS, now=T0, ip="")
    with db.transaction() as session:
        codes = totp.confirm(session, user, code=code_at(second.key, T0), keys=KEYS, now=T0, ip="")
        assert len(codes) == 10
    with pytest.raises(totp.TotpError, match="already have"), db.transaction() as session:
        totp.start(session, user, keys=KEYS, issuer="Test Office", now=T0)
    with db.transaction() as session:
        added = session.scalars(
            select(AuditEntry).where(AuditEntry.action == actions.SECOND_FACTOR_ADDED)
        ).all()
    assert len(added) == 1


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
