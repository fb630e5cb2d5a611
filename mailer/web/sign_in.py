"""Finishing a sign-in in the browser, in one or two steps.

A correct password alone signs in only someone with no second factor. Someone with one
is *pending*: the signed cookie remembers who (with their session token, so a password
change or disabling in between voids it) and since when, and the second-factor page
(``auth.second_factor``) finishes the sign-in with the method used. A pending sign-in
lasts ``PENDING_FOR`` and allows ``PENDING_TRIES`` wrong answers before the password
must be typed again.

``record`` runs in the caller's transaction; ``complete`` runs after it commits.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ParamSpec

from flask import current_app, flash, jsonify, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_user
from sqlalchemy.orm import Session

from mailer.accounts import service as accounts
from mailer.accounts import sessions, throttling
from mailer.accounts.models import User
from mailer.database import Database, get_db
from mailer.web.redirects import safe_admin_path
from mailer.web.security import SESSION_KEY, clock, wait

log = logging.getLogger(__name__)
P = ParamSpec("P")

PENDING = "pending_sign_in"
PENDING_FOR = timedelta(minutes=5)
PENDING_TRIES = 5
BRAKED = "Many sign-in attempts are being made right now. Wait a few seconds and try again."


@dataclass(frozen=True)
class Pending:
    user: User
    next_path: str
    tries: int


def hold_for_second_factor(user: User, *, now: datetime, next_path: str = "") -> None:
    """The password was right; the second factor is still to come."""
    session.clear()
    session[PENDING] = {
        "user": user.id,
        "token": user.session_token,
        "at": now.timestamp(),
        "next": safe_admin_path(next_path) or "",
        "tries": 0,
    }


def pending(db_session: Session, *, now: datetime) -> Pending | None:
    """The sign-in waiting for its second factor, if it is still good."""
    data = session.get(PENDING)
    if not isinstance(data, dict):
        return None
    try:
        user_id, token, at = int(data["user"]), str(data["token"]), float(data["at"])
        tries = int(data.get("tries", 0))
    except (KeyError, TypeError, ValueError):
        return None
    if not 0 <= now.timestamp() - at <= PENDING_FOR.total_seconds() or tries >= PENDING_TRIES:
        return None
    user = db_session.get(User, user_id)
    if user is None or not user.active or user.session_token != token:
        return None
    return Pending(user, str(data.get("next") or ""), tries)


def count_wrong_answer() -> int:
    """One more wrong second factor; returns how many are left before the password
    must be typed again (0: the pending sign-in is over)."""
    data = dict(session.get(PENDING) or {})
    data["tries"] = int(data.get("tries", 0)) + 1
    left = max(0, PENDING_TRIES - data["tries"])
    if left:
        session[PENDING] = data
    else:
        session.pop(PENDING, None)
    return left


@contextmanager
def brake(db: Database) -> Iterator[bool]:
    """While failures everywhere run high, every attempt waits before it is checked
    (mailer.accounts.throttling), and only a few at a time per process, so waiting
    attempts cannot take every thread: the rest are told to try again in a moment.
    Yields whether this attempt may go on. Holds no transaction while it waits."""
    peek = db.new_session()
    try:
        delay = throttling.brake_delay(peek, now=clock())
    finally:
        peek.close()
    if not delay:
        yield True
        return
    if not throttling.BRAKE_SLOTS.acquire(blocking=False):
        log.warning("sign-in brake on and every slot busy: attempt refused for now")
        yield False
        return
    try:
        log.warning("sign-in brake on: many failed sign-ins; this attempt waits %.0fs", delay)
        wait(delay)
        yield True
    finally:
        throttling.BRAKE_SLOTS.release()


def braked_json(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """``brake`` around a sign-in answered by a script (a passkey): a refusal for now
    is JSON, as the script shows it."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        with brake(get_db()) as admitted:
            if not admitted:
                return jsonify(error=BRAKED), 429
            return view(*args, **kwargs)

    return wrapper


def abandon() -> None:
    session.pop(PENDING, None)


def client_user_agent() -> str:
    return (request.user_agent.string or "")[:300]


def record(db_session: Session, user: User, *, method: str, ip: str, now: datetime) -> str:
    """In the caller's transaction: the sign-in on the record and a new server-side
    session; returns the session's key for the cookie."""
    accounts.record_sign_in(db_session, user, method=method, ip=ip, now=now)
    return sessions.begin(
        db_session,
        user,
        now=now,
        longest=current_app.config["MAILER"].auth.session_max,
        method=method,
        user_agent=client_user_agent(),
        ip=ip,
    )


def complete(user: User, key: str, *, next_path: str = "") -> ResponseReturnValue:
    """After the transaction of ``record`` committed: the browser is signed in."""
    # A fresh cookie on sign-in, so a session fixed before it is useless.
    session.clear()
    login_user(user)
    session[SESSION_KEY] = key
    flash(f"Signed in as {user.email}.", "success")
    return redirect(safe_admin_path(next_path) or url_for("admin.dashboard"))
