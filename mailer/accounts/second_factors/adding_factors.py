"""Who may add a second factor, and what setting up the first one ends.

Once a user has a factor, a browser that signed in with the password alone (perhaps
someone who only learnt the password) may not add another: it would escape the hold
and leave a factor that outlives a password change. Setting up the FIRST factor ends
every other session of the user, so a password-only browser elsewhere does not live
on. Callers own the transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from mailer import audit, locks
from mailer.accounts import sessions
from mailer.accounts.models import User
from mailer.accounts.second_factors import factors
from mailer.accounts.service import AccountError
from mailer.audit import actions

FIRST_FACTOR = sessions.FIRST_FACTOR_SET_UP

CONFIRM_FIRST = (
    "You already have a second factor, and this browser signed in with your password "
    "alone. Confirm it is you first (confirm with a code from your app, or sign out and "
    "sign in again with your passkey), then add another."
)


class NotConfirmed(AccountError):
    """A password-only browser tried to add a factor to a user who has one."""


def check(session: Session, user: User, *, strong_session: bool) -> bool:
    """Whether ``user`` has a factor already (so adding one is not their first);
    refused if they have and this browser did not sign in with one. Holds the user's
    factor lock, so two first factors set up at once are told apart."""
    locks.hold(session, f"factors:{user.id}")
    has = factors.has_any(session, user.id)
    if has and not strong_session:
        raise NotConfirmed(CONFIRM_FIRST)
    return has


def first_added(session: Session, user: User, *, keep: str | None, now: datetime, ip: str) -> int:
    """End every other session of ``user`` (their first factor was just set up in the
    browser holding ``keep``); how many were ended."""
    ended = sessions.end_all(session, user, now=now, reason=FIRST_FACTOR, keep=keep)
    if ended:
        audit.record(
            session,
            actions.SESSIONS_ENDED,
            actor=user,
            target_type="user",
            target_id=user.id,
            summary=f"Signed out of {ended} other browser{'s' if ended != 1 else ''}: "
            "a second factor was set up",
            detail={"ended": ended, "reason": FIRST_FACTOR},
            ip=ip,
        )
    return ended
