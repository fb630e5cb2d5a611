"""Setting up an authenticator app for a test user, and making its codes as the app would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp

from mailer.accounts.models import User
from mailer.accounts.second_factors import totp
from mailer.accounts.second_factors.sealing import KeyRing
from mailer.database import Database
from tests.conftest import TEST_SECRET

KEYS = KeyRing.of(TEST_SECRET)
# A moment in the middle of a 30-second step, so "one step either side" is exact.
T0 = datetime(2026, 3, 2, 9, 0, 15, tzinfo=UTC)


def code_at(key: str, when: datetime) -> str:
    return pyotp.TOTP(key).at(when)


def enrol(database: Database, user: User, *, now: datetime = T0) -> tuple[str, list[str]]:
    """The app set up for ``user`` at ``now``: its key and the recovery codes shown."""
    with database.transaction() as session:
        me = session.get(User, user.id)
        assert me is not None
        setup = totp.start(
            session, me, keys=KEYS, issuer="Test Office", now=now, strong_session=True
        )
    with database.transaction() as session:
        me = session.get(User, user.id)
        assert me is not None
        codes = totp.confirm(
            session,
            me,
            code=code_at(setup.key, now),
            keys=KEYS,
            now=now,
            ip="127.0.0.1",
            strong_session=True,
        ).codes
    return setup.key, codes


def later(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)
