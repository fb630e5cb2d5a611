"""An admin resets another user's second factors: someone who lost their phone or
their security key gets back in, signing in with their password and setting up a new
factor. The authenticator app, recovery codes and passkeys go; every browser the user
is signed in on is signed out; the audit log keeps who did it. Never one's own: an
attacker holding only a password must not be able to strip the factor that stops them.

The caller owns the transaction, and tells the user by email in the same one
(mailer.delivery.factor_reset_notice), so the notice goes exactly when the reset holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from mailer import audit
from mailer.accounts import sessions
from mailer.accounts.models import Passkey, RecoveryCode, TotpSecret, User
from mailer.accounts.second_factors import factors
from mailer.accounts.service import AccountError
from mailer.audit import actions


@dataclass(frozen=True)
class Reset:
    """What a reset removed, for the page that confirms it and the email to the user."""

    user_email: str
    user_name: str
    by_name: str
    by_email: str
    at: datetime
    had_app: bool
    passkeys: int
    recovery_codes: int
    sessions_ended: int

    @property
    def removed_anything(self) -> bool:
        return self.had_app or bool(self.passkeys) or bool(self.recovery_codes)


def reset(session: Session, user: User, *, by: User, now: datetime, ip: str) -> Reset:
    if user.id == by.id:
        raise AccountError(
            "You cannot reset your own second factors. Another admin can do it for you; "
            "or sign in with a recovery code and set up a new factor on Sign-in security."
        )
    before = factors.summary(session, user)
    codes = session.scalar(
        select(func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == user.id)
    )
    session.execute(delete(TotpSecret).where(TotpSecret.user_id == user.id))
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.execute(delete(Passkey).where(Passkey.user_id == user.id))
    ended = sessions.end_all(session, user, now=now, reason=sessions.FACTORS_RESET)
    done = Reset(
        user_email=user.email,
        user_name=user.display_name,
        by_name=by.display_name,
        by_email=by.email,
        at=now,
        had_app=before.totp,
        passkeys=len(before.passkeys),
        recovery_codes=int(codes or 0),
        sessions_ended=ended,
    )
    audit.record(
        session,
        actions.SECOND_FACTORS_RESET,
        actor=by,
        target_type="user",
        target_id=user.id,
        summary=f"Reset the second factors of {user.email} and signed them out everywhere",
        detail={
            "authenticator_app": done.had_app,
            "passkeys": done.passkeys,
            "recovery_codes": done.recovery_codes,
            "sessions_ended": ended,
        },
        ip=ip,
    )
    return done


def end_sessions(session: Session, user: User, *, by: User, now: datetime, ip: str) -> int:
    """Sign ``user`` out of every browser (a lost laptop, someone leaving); returns how
    many sessions ended. For oneself there is "Sign out of all other browsers"."""
    if user.id == by.id:
        raise AccountError(
            "To sign yourself out elsewhere, use Sign out of all other browsers on "
            "Sign-in security."
        )
    ended = sessions.end_all(session, user, now=now, reason=sessions.SIGNED_OUT_ELSEWHERE)
    audit.record(
        session,
        actions.SESSIONS_ENDED,
        actor=by,
        target_type="user",
        target_id=user.id,
        summary=f"Signed {user.email} out of every browser",
        detail={"ended": ended},
        ip=ip,
    )
    return ended
