"""An authenticator app (time-based one-time codes, RFC 6238): setting one up, checking
its codes, removing it. Callers own the transaction.

Codes are what every app reads from an otpauth:// address: SHA-1, six digits, thirty
seconds. A code is accepted for the current step and one either side (a phone's clock
a little off), nothing wider, and only for a step later than the last one used: the
step is claimed with one compare-and-set UPDATE, so two requests with the same code at
the same moment succeed once, on SQLite and PostgreSQL alike. The shared key is kept
sealed (mailer.accounts.second_factors.sealing), never as the base32 text an app is given.

A lost phone is replaced without a gap: a browser that signed in with a second factor
(a recovery code, say) sets up a replacement key beside the app's, and only once a code
from the new app is typed does it take over; until then the old app keeps working.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from mailer import audit, locks
from mailer.accounts import policy
from mailer.accounts.models import TotpSecret, User
from mailer.accounts.second_factors import adding_factors, factors, recovery_codes
from mailer.accounts.second_factors.sealing import TOTP_KEY, KeyRing, SealBroken
from mailer.accounts.service import AccountError
from mailer.audit import actions
from mailer.database import rows_changed

DIGITS = 6
INTERVAL = 30
# Steps accepted either side of the current one.
DRIFT = 1


START_AGAIN = "Start again: choose “Set up an authenticator app”."


# A new phone's key waits this long to be confirmed; then it must be started again.
REPLACEMENT_LASTS = timedelta(days=1)


class TotpError(AccountError):
    """A request about the authenticator app that cannot be done; the message says why."""


@dataclass(frozen=True)
class Setup:
    """An authenticator app being set up: the key to give the app, as a QR code of
    ``uri`` or typed in ``grouped``."""

    key: str
    uri: str
    issuer: str

    @property
    def grouped(self) -> list[str]:
        """The key in groups of four, for typing."""
        return [self.key[i : i + 4] for i in range(0, len(self.key), 4)]


@dataclass(frozen=True)
class Confirmed:
    """An app set up: the new recovery codes to show once, whether it was the user's
    first second factor, and whether it replaced an app they had."""

    codes: list[str]
    first: bool
    replaced: bool


def _totp(key: str) -> pyotp.TOTP:
    return pyotp.TOTP(key, digits=DIGITS, interval=INTERVAL)


def step_at(now: datetime) -> int:
    return int(now.timestamp()) // INTERVAL


def _row(session: Session, user: User) -> TotpSecret | None:
    return session.scalar(select(TotpSecret).where(TotpSecret.user_id == user.id))


def confirmed(session: Session, user: User) -> TotpSecret | None:
    """The user's authenticator app, once set up."""
    row = _row(session, user)
    return row if row is not None and row.confirmed_at is not None else None


def start(
    session: Session,
    user: User,
    *,
    keys: KeyRing,
    issuer: str,
    now: datetime,
    strong_session: bool,
) -> Setup:
    """A new key, not counting until a code from it is typed back; an earlier key being
    set up is replaced. With an app set up already, the new key waits beside it as its
    replacement (a new phone). ``strong_session``: this browser signed in with a second
    factor, which adding one needs once the user has one."""
    locks.hold(session, f"totp:{user.id}")
    adding_factors.check(session, user, strong_session=strong_session)
    row = _row(session, user)
    key = pyotp.random_base32()
    sealed = keys.seal(key, purpose=TOTP_KEY)
    if row is not None and row.confirmed_at is not None:
        row.replacement = sealed
        row.replacement_at = now
        session.flush()
        return _setup(key, user=user, issuer=issuer)
    if row is not None:
        session.delete(row)
        session.flush()
    session.add(TotpSecret(user_id=user.id, secret=sealed, created_at=now, last_step=0))
    session.flush()
    return _setup(key, user=user, issuer=issuer)


def being_set_up(
    session: Session,
    user: User,
    *,
    keys: KeyRing,
    issuer: str,
    strong_session: bool,
    now: datetime,
) -> Setup | None:
    """The key being set up, or replacing the app (shown again after a mistyped code).
    A replacement's key is shown only to a browser that signed in with a second factor
    (as only such a browser may start one), and only for ``REPLACEMENT_LASTS``."""
    row = _row(session, user)
    if row is None:
        return None
    if row.confirmed_at is None:
        return _setup(keys.unseal(row.secret, purpose=TOTP_KEY), user=user, issuer=issuer)
    fresh = row.replacement_at is not None and now - row.replacement_at <= REPLACEMENT_LASTS
    if row.replacement and strong_session and fresh:
        return _setup(keys.unseal(row.replacement, purpose=TOTP_KEY), user=user, issuer=issuer)
    return None


def _setup(key: str, *, user: User, issuer: str) -> Setup:
    issuer = " ".join(issuer.replace(":", " ").split()) or "Stakeholder Mailer"
    uri = _totp(key).provisioning_uri(name=user.email, issuer_name=issuer)
    return Setup(key=key, uri=uri, issuer=issuer)


def use_code(session: Session, row: TotpSecret, *, code: str, keys: KeyRing, now: datetime) -> bool:
    """Whether ``code`` (six ASCII digits) is right now and its step not used before;
    if so the step is claimed, so the same code never works twice."""
    totp = _totp(keys.unseal(row.secret, purpose=TOTP_KEY))
    current = step_at(now)
    for step in range(current - DRIFT, current + DRIFT + 1):
        if not hmac.compare_digest(totp.generate_otp(step), code):
            continue
        claimed = rows_changed(
            session,
            update(TotpSecret)
            .where(TotpSecret.id == row.id, TotpSecret.last_step < step)
            .values(last_step=step)
            .execution_options(synchronize_session=False),
        )
        session.expire(row, ["last_step"])
        return claimed == 1
    return False


def _matching_step(key: str, code: str, now: datetime) -> int | None:
    totp = _totp(key)
    current = step_at(now)
    for step in range(current - DRIFT, current + DRIFT + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


WRONG_NEW = (
    "That code is not right. Type the 6 digits your app shows now for this account; "
    "if it keeps failing, check the phone's clock is set automatically."
)


def confirm(
    session: Session,
    user: User,
    *,
    code: str,
    keys: KeyRing,
    now: datetime,
    ip: str,
    strong_session: bool,
) -> Confirmed:
    """The key being set up counts once a code from it is right: the app is the user's
    second factor (or replaces the one they had), and ten new recovery codes are
    returned to be shown once."""
    locks.hold(session, f"totp:{user.id}")
    had_factor = adding_factors.check(session, user, strong_session=strong_session)
    row = _row(session, user)
    stale = row is not None and (
        row.replacement_at is None or now - row.replacement_at > REPLACEMENT_LASTS
    )
    if row is None or (row.confirmed_at is not None and (not row.replacement or stale)):
        raise TotpError(START_AGAIN)
    replacing = row.confirmed_at is not None
    try:
        if replacing:
            right = _take_over(session, row, code=code, keys=keys, now=now)
        else:
            right = use_code(session, row, code=code, keys=keys, now=now)
    except SealBroken:
        raise TotpError(START_AGAIN) from None
    if not right:
        raise TotpError(WRONG_NEW)
    row.confirmed_at = now
    audit.record(
        session,
        actions.SECOND_FACTOR_ADDED,
        actor=user,
        target_type="user",
        target_id=user.id,
        summary=f"Authenticator app {'replaced' if replacing else 'set up'} by {user.email}",
        detail={"factor": "totp", "replaced": replacing},
        ip=ip,
    )
    codes = recovery_codes.make(session, user, keys=keys, now=now, ip=ip)
    return Confirmed(codes=codes, first=not had_factor, replaced=replacing)


def _take_over(
    session: Session, row: TotpSecret, *, code: str, keys: KeyRing, now: datetime
) -> bool:
    """The replacement key becomes the app's key if ``code`` is from it: one
    compare-and-set, so the step of that code is the last used and the old app's
    codes stop working at that moment."""
    sealed = row.replacement or ""
    step = _matching_step(keys.unseal(sealed, purpose=TOTP_KEY), code, now)
    if step is None:
        return False
    claimed = rows_changed(
        session,
        update(TotpSecret)
        .where(TotpSecret.id == row.id, TotpSecret.replacement == sealed)
        .values(secret=sealed, replacement=None, replacement_at=None, last_step=step)
        .execution_options(synchronize_session=False),
    )
    session.expire(row)
    return claimed == 1


def refuse_removal(session: Session, user: User, *, require_second_factor: str) -> None:
    """Refuse to remove the app when the office requires a second factor of the user and
    it is their last (checked before any code is used up)."""
    if not policy.requires_second_factor(require_second_factor, user.role):
        return
    if not factors.summary(session, user).passkeys:
        raise TotpError(
            "Your office requires a second factor and this app is your only one: "
            "set up the new one first (choose “Set up a new phone” above, or add a "
            "passkey), then remove this app."
        )


def remove(session: Session, user: User, *, now: datetime, ip: str) -> None:
    """The app goes (the caller checked a code first). With no passkey left, the
    recovery codes go too: they stand in for a factor, never on their own."""
    row = confirmed(session, user)
    if row is None:
        raise TotpError("You have no authenticator app set up.")
    session.execute(delete(TotpSecret).where(TotpSecret.id == row.id))
    if not factors.summary(session, user).passkeys:
        recovery_codes.forget(session, user)
    audit.record(
        session,
        actions.SECOND_FACTOR_REMOVED,
        actor=user,
        target_type="user",
        target_id=user.id,
        summary=f"Authenticator app removed by {user.email}",
        detail={"factor": "totp", "removed_at": now.isoformat()},
        ip=ip,
    )
