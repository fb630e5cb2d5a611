"""Sign-in sessions kept on the server.

The browser's signed cookie carries a random key; the server keeps only its hash, with
when the session began and when it was last used. A session is good while its row is
not ended, it was used within ``[auth] session_idle`` and began within
``[auth] session_max``. Signing out ends the row, so a cookie copied before is dead; a
password change ends every other session of the user. An ended row keeps why, so the
person it signed out is told once (``why_ended``). Callers own the transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from mailer.accounts import methods
from mailer.accounts.models import User, UserSession
from mailer.database import rows_changed

SIGNED_OUT = "signed out"
IDLE = "idle"
TOO_OLD = "too old"
PASSWORD_CHANGED = "password changed"
DISABLED = "disabled"
SIGNED_OUT_ELSEWHERE = "signed out from another browser"
FACTORS_RESET = "second factors reset"
# The user set up their first second factor in another browser: a browser that signed in
# with the password alone must not live on beside it.
FIRST_FACTOR_SET_UP = "second factor set up"

# Last use is written at most this often, so reading a page is not a write each time;
# the idle limit is therefore exact to within this.
TOUCH_EVERY = timedelta(minutes=1)
# Ended rows are kept a while for the record, then deleted.
KEPT_FOR = timedelta(days=30)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class Check:
    """Whether a session is still good, whether checking it wrote (its last use, or
    ending it), and how it began (mailer.accounts.methods); for a real session of this
    user that has ended, why (``ended``: one of the reasons above)."""

    good: bool
    writes: bool
    method: str = ""
    ended: str = ""


def begin(
    session: Session,
    user: User,
    *,
    now: datetime,
    longest: timedelta,
    method: str = methods.PASSWORD,
    user_agent: str = "",
    ip: str = "",
) -> str:
    """A new session for ``user``; returns the key for the cookie (never stored).
    Rows ended long ago, or last used so long ago they are past ``longest``, go."""
    key = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            key_hash=_hash(key),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            method=method,
            user_agent=user_agent[:300],
            ip=ip[:45],
        )
    )
    forget = now - max(KEPT_FOR, longest)
    session.execute(
        delete(UserSession).where(
            func.coalesce(UserSession.ended_at, UserSession.last_seen_at) < forget
        )
    )
    return key


def check(
    session: Session,
    *,
    key: str | None,
    user_id: int,
    now: datetime,
    idle: timedelta,
    longest: timedelta,
    dry_run: bool = False,
) -> Check:
    """Whether the session with ``key`` is still good for ``user_id``, and whether
    checking it writes. ``dry_run`` decides without changing anything."""
    if not key:
        return Check(False, False)
    row = session.scalar(select(UserSession).where(UserSession.key_hash == _hash(key)))
    if row is None or row.user_id != user_id:
        return Check(False, False)
    if row.ended_at is not None:
        return Check(False, False, ended=row.ended_reason or "")
    if now - row.created_at > longest or now - row.last_seen_at > idle:
        reason = TOO_OLD if now - row.created_at > longest else IDLE
        if not dry_run:
            _end(row, reason, now)
        return Check(False, True, ended=reason)
    if now - row.last_seen_at >= TOUCH_EVERY:
        if not dry_run:
            row.last_seen_at = now
        return Check(True, True, row.method)
    return Check(True, False, row.method)


def why_ended(reason: str, *, idle: timedelta, longest: timedelta) -> str:
    """What the sign-in page tells the person whose session ended for ``reason``; ""
    when they ended it themselves (or the reason is unknown)."""
    words = {
        FACTORS_RESET: "An admin reset your second factors: sign in and set up a new one.",
        SIGNED_OUT_ELSEWHERE: "You were signed out from another browser (yours or an admin's).",
        PASSWORD_CHANGED: "Your password was changed in another browser or by an admin, so "
        "this browser was signed out. Sign in with the new password.",
        DISABLED: "An admin disabled your account, so you were signed out.",
        FIRST_FACTOR_SET_UP: "A second factor was set up for your account in another "
        "browser, so this one was signed out. Sign in again and use it.",
        TOO_OLD: f"Your session ended after {_duration(longest)}, as every session does "
        "here. Sign in again.",
        IDLE: f"You were signed out after {_duration(idle)} without using the site. Sign in again.",
    }
    return words.get(reason, "")


def _duration(span: timedelta) -> str:
    minutes = round(span.total_seconds() / 60)
    if minutes % 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = minutes // 60
    return f"{hours} hour{'s' if hours != 1 else ''}"


def strengthen(session: Session, key: str | None, *, method: str) -> None:
    """Record that this session has now shown a second factor (set up during a hold at
    enrolment, or confirmed later): it is no longer held."""
    if not key:
        return
    session.execute(
        update(UserSession)
        .where(UserSession.key_hash == _hash(key), UserSession.ended_at.is_(None))
        .values(method=method)
    )


def is_current(row: UserSession, key: str | None) -> bool:
    """Whether ``row`` is the session of the browser holding ``key``."""
    return bool(key) and row.key_hash == _hash(key or "")


def open_sessions(
    session: Session, user: User, *, now: datetime, idle: timedelta, longest: timedelta
) -> list[UserSession]:
    """The user's sessions still good now, most recently used first."""
    return list(
        session.scalars(
            select(UserSession)
            .where(
                UserSession.user_id == user.id,
                UserSession.ended_at.is_(None),
                UserSession.last_seen_at >= now - idle,
                UserSession.created_at >= now - longest,
            )
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
    )


def end(session: Session, key: str | None, *, now: datetime, reason: str = SIGNED_OUT) -> None:
    if not key:
        return
    row = session.scalar(select(UserSession).where(UserSession.key_hash == _hash(key)))
    if row is not None and row.ended_at is None:
        _end(row, reason, now)


def end_all(
    session: Session, user: User, *, now: datetime, reason: str, keep: str | None = None
) -> int:
    """End every open session of ``user`` but the one with key ``keep``."""
    query = update(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)
    )
    if keep:
        query = query.where(UserSession.key_hash != _hash(keep))
    return rows_changed(session, query.values(ended_at=now, ended_reason=reason))


def _end(row: UserSession, reason: str, now: datetime) -> None:
    row.ended_at = now
    row.ended_reason = reason
