"""An authenticator app (time-based one-time codes, RFC 6238): setting one up, checking
its codes, removing it. Callers own the transaction.

Codes are what every app reads from an otpauth:// address: SHA-1, six digits, thirty
seconds. A code is accepted for the current step and one either side (a phone's clock
a little off), nothing wider, and only for a step later than the last one used: the
step is claimed with one compare-and-set UPDATE, so two requests with the same code at
the same moment succeed once, on SQLite and PostgreSQL alike. The shared key is kept
sealed (mailer.accounts.sealing), never as the base32 text an app is given.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

import pyotp
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from mailer import audit, locks
from mailer.accounts import factors, policy, recovery_codes
from mailer.accounts.models import TotpSecret, User
from mailer.accounts.sealing import TOTP_KEY, KeyRing, SealBroken
from mailer.accounts.service import AccountError
from mailer.audit import actions
from mailer.database import rows_changed

DIGITS = 6
INTERVAL = 30
# Steps accepted either side of the current one.
DRIFT = 1


START_AGAIN = "Start again: choose “Set up an authenticator app”."


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


def start(session: Session, user: User, *, keys: KeyRing, issuer: str, now: datetime) -> Setup:
    """A new key, not counting until a code from it is typed back; an earlier key being
    set up is replaced. Refused while an app is set up (remove it first)."""
    locks.hold(session, f"totp:{user.id}")
    row = _row(session, user)
    if row is not None and row.confirmed_at is not None:
        raise TotpError(
            "You already have an authenticator app set up. Remove it first to set up another."
        )
    if row is not None:
        session.delete(row)
        session.flush()
    key = pyotp.random_base32()
    session.add(
        TotpSecret(
            user_id=user.id, secret=keys.seal(key, purpose=TOTP_KEY), created_at=now, last_step=0
        )
    )
    session.flush()
    return _setup(key, user=user, issuer=issuer)


def being_set_up(session: Session, user: User, *, keys: KeyRing, issuer: str) -> Setup | None:
    """The key being set up (shown again after a mistyped code), if any."""
    row = _row(session, user)
    if row is None or row.confirmed_at is not None:
        return None
    return _setup(keys.unseal(row.secret, purpose=TOTP_KEY), user=user, issuer=issuer)


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


def confirm(
    session: Session, user: User, *, code: str, keys: KeyRing, now: datetime, ip: str
) -> list[str]:
    """The key being set up counts once a code from it is right: the app is the user's
    second factor, and ten new recovery codes are returned to be shown once."""
    locks.hold(session, f"totp:{user.id}")
    row = _row(session, user)
    if row is None or row.confirmed_at is not None:
        raise TotpError(START_AGAIN)
    try:
        right = use_code(session, row, code=code, keys=keys, now=now)
    except SealBroken:
        raise TotpError(START_AGAIN) from None
    if not right:
        raise TotpError(
            "That code is not right. Type the 6 digits your app shows now for this account; "
            "if it keeps failing, check the phone's clock is set automatically."
        )
    row.confirmed_at = now
    audit.record(
        session,
        actions.SECOND_FACTOR_ADDED,
        actor=user,
        target_type="user",
        target_id=user.id,
        summary=f"Authenticator app set up by {user.email}",
        detail={"factor": "totp"},
        ip=ip,
    )
    return recovery_codes.make(session, user, keys=keys, now=now, ip=ip)


def refuse_removal(session: Session, user: User, *, require_second_factor: str) -> None:
    """Refuse to remove the app when the office requires a second factor of the user and
    it is their last (checked before any code is used up)."""
    if not policy.requires_second_factor(require_second_factor, user.role):
        return
    if not factors.summary(session, user).passkeys:
        raise TotpError(
            "Your office requires a second factor and this app is your only one: "
            "set up the new one first (a passkey, say), then remove this app."
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
