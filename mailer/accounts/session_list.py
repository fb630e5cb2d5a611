"""The browsers a user is signed in on, as they read them: "Chrome on Windows", when it
began, when last used, from which network, how it signed in, and which one is this
browser. Ending one, or all but this one, is audited. Callers own the transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from mailer import audit
from mailer.accounts import methods, sessions
from mailer.accounts.models import User, UserSession
from mailer.accounts.service import AccountError
from mailer.audit import actions

# Checked in order: Edge and Opera also say "Chrome", Chrome also says "Safari", and
# the iPhone's Chrome and Firefox say "CriOS" and "FxiOS".
_BROWSERS = (
    ("Edge", re.compile(r"\bEdg(?:e|A|iOS)?/")),
    ("Opera", re.compile(r"\bOPR/|\bOpera\b")),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/")),
    ("Firefox", re.compile(r"\bFirefox/|\bFxiOS/")),
    ("Chrome", re.compile(r"\b(?:Headless)?Chrome/|\bCriOS/|\bChromium/")),
    ("Safari", re.compile(r"\bSafari/")),
)
_SYSTEMS = (
    ("iPhone", re.compile(r"\biPhone\b")),
    ("iPad", re.compile(r"\biPad\b")),
    ("Android", re.compile(r"\bAndroid\b")),
    ("ChromeOS", re.compile(r"\bCrOS\b")),
    ("Windows", re.compile(r"\bWindows\b")),
    ("Mac", re.compile(r"\bMacintosh\b|\bMac OS X\b")),
    ("Linux", re.compile(r"\bLinux\b")),
)


def describe(user_agent: str) -> str:
    """A browser and its system in a few words, read simply from the user agent; a
    program that is not a known browser is named as such rather than guessed."""
    browser = next((name for name, pattern in _BROWSERS if pattern.search(user_agent)), "")
    system = next((name for name, pattern in _SYSTEMS if pattern.search(user_agent)), "")
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or f"A browser on {system}"
    return "An unknown browser or program" if user_agent.strip() else "An unnamed browser"


@dataclass(frozen=True)
class SignedIn:
    """One open session as its owner (or an admin) sees it."""

    id: int
    browser: str
    began: datetime
    last_used: datetime
    network: str
    method: str
    current: bool


def listing(
    session: Session,
    user: User,
    *,
    now: datetime,
    idle: timedelta,
    longest: timedelta,
    current_key: str | None = None,
) -> list[SignedIn]:
    """The user's open sessions: the browser asking first (``current_key``; none for an
    admin looking at someone else), then the others, most recently used first."""
    shown = [
        _shown(row, current=sessions.is_current(row, current_key))
        for row in sessions.open_sessions(session, user, now=now, idle=idle, longest=longest)
    ]
    return sorted(shown, key=lambda b: not b.current)


def _shown(row: UserSession, *, current: bool) -> SignedIn:
    return SignedIn(
        id=row.id,
        browser=describe(row.user_agent or ""),
        began=row.created_at,
        last_used=row.last_seen_at,
        network=row.ip or "unknown",
        method=methods.words(row.method),
        current=current,
    )


def sign_out_others(
    session: Session, user: User, *, keep: str | None, now: datetime, ip: str
) -> int:
    """End every session of ``user`` but this browser's; returns how many ended."""
    if not keep:
        raise AccountError("This browser's sign-in was not found. Sign in again.")
    ended = sessions.end_all(
        session, user, now=now, reason=sessions.SIGNED_OUT_ELSEWHERE, keep=keep
    )
    _audit(session, user, by=user, ended=ended, ip=ip, summary="Signed out of other browsers")
    return ended


def sign_out_one(
    session: Session, user: User, *, session_id: int, keep: str | None, now: datetime, ip: str
) -> SignedIn | None:
    """End one other open session of ``user``; None when it had already ended. Never
    this browser's (that is what Sign out is for) nor anyone else's session."""
    row = session.get(UserSession, session_id)
    if row is None or row.user_id != user.id or row.ended_at is not None:
        return None
    if sessions.is_current(row, keep):
        raise AccountError("That is this browser: use Sign out at the top of the page.")
    row.ended_at = now
    row.ended_reason = sessions.SIGNED_OUT_ELSEWHERE
    _audit(
        session,
        user,
        by=user,
        ended=1,
        ip=ip,
        summary=f"Signed out of {describe(row.user_agent or '')} ({row.ip or 'unknown'})",
    )
    return _shown(row, current=False)


def _audit(session: Session, user: User, *, by: User, ended: int, ip: str, summary: str) -> None:
    audit.record(
        session,
        actions.SESSIONS_ENDED,
        actor=by,
        target_type="user",
        target_id=user.id,
        summary=summary,
        detail={"ended": ended},
        ip=ip,
    )
