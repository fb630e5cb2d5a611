"""Sign-in sessions, CSRF protection and response headers for every page."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from flask import Flask, Response, current_app, g, request, session
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from mailer.accounts import service as accounts
from mailer.accounts import sessions
from mailer.database import get_db, utcnow

if TYPE_CHECKING:
    from mailer.accounts.models import User

# Where the signed cookie keeps the server-side session's key (mailer/accounts/sessions.py).
SESSION_KEY = "session_key"
# Why this browser's session ended, until the sign-in page has said so.
ENDED = "session_ended"
CLOCK = "mailer.clock"
SLEEP = "mailer.sleep"

HSTS = "max-age=31536000; includeSubDomains"

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in to continue."
login_manager.login_message_category = "info"
# "strong" would sign people out when a phone hops between networks; the session
# token on the user already ends sessions on a password change or disabling.
login_manager.session_protection = "basic"


@login_manager.user_loader
def _load_user(login_id: str) -> User | None:
    user_id, _, _token = login_id.partition(".")
    if not user_id.isdigit() or not _session_is_good(int(user_id)):
        return None
    return accounts.get_by_login_id(get_db().session, login_id)


def _session_is_good(user_id: int) -> bool:
    """Check the server-side session on sessions of its own, before the request's own
    session is used: a peek that only reads, then (at most once a minute, or when it
    ends the session) a short write that waits its turn for SQLite's lock."""
    db = get_db()
    auth = current_app.config["MAILER"].auth
    check = functools.partial(
        sessions.check,
        key=session.get(SESSION_KEY),
        user_id=user_id,
        now=clock(),
        idle=auth.session_idle,
        longest=auth.session_max,
    )
    peek = db.new_session()
    try:
        result = check(peek, dry_run=True)
    finally:
        peek.close()
    if result.writes:
        with db.transaction() as own:
            result = check(own)
    if result.ended:
        # A real session of this user, ended by someone or something else: the sign-in
        # page says why, once (the key goes, so it is not checked again).
        session[ENDED] = result.ended
        session.pop(SESSION_KEY, None)
    # How this browser signed in: the enrolment hold (mailer/admin) reads it.
    g.sign_in_method = result.method
    return result.good


def why_signed_out() -> str:
    """Once: why this browser's session was ended (by an admin, another browser, a
    password change, its age), for the sign-in page; "" when there is nothing to say."""
    reason = session.pop(ENDED, None)
    if not isinstance(reason, str):
        return ""
    auth = current_app.config["MAILER"].auth
    return sessions.why_ended(reason, idle=auth.session_idle, longest=auth.session_max)


def sign_in_method() -> str:
    """How the current browser's session began ("" when nobody is signed in)."""
    _ = current_user.is_authenticated
    return str(g.get("sign_in_method", ""))


def _load_early() -> None:
    # Load the signed-in user before any view touches the request's database session:
    # the check above may write on a session of its own, which on SQLite must not wait
    # for a write lock this same request already holds. The API reads no cookie.
    if request.path.startswith("/api/"):
        return
    if SESSION_KEY in session:
        _ = current_user.is_authenticated


def clock() -> datetime:
    """Now, as sign-in and sessions see it (tests put their own clock in the app)."""
    now: Callable[[], datetime] = current_app.extensions.get(CLOCK, utcnow)
    return now()


def wait(seconds: float) -> None:
    """Sleep (the login brake); tests put their own in the app to count the waits."""
    current_app.extensions.get(SLEEP, time.sleep)(seconds)


def init_app(app: Flask) -> None:
    app.extensions.setdefault(CLOCK, utcnow)
    app.extensions.setdefault(SLEEP, time.sleep)
    csrf.init_app(app)
    login_manager.init_app(app)
    app.before_request(_load_early)
    app.after_request(_security_headers)


def content_policy(*, images: str = "", styles: str = "") -> str:
    """The site's Content-Security-Policy: every asset is ours and local (the product
    must work on a closed network). ``images`` and ``styles`` add sources, for a page
    showing the office's logo and colours (mailer.organisation.branding_views)."""
    return (
        f"default-src 'self'; img-src 'self' data:{' ' + images if images else ''}; "
        f"style-src 'self'{' ' + styles if styles else ''}; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    )


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Content-Security-Policy", content_policy())
    if request.path.startswith("/admin") or request.path == "/login":
        headers.setdefault("Cache-Control", "no-store")
    if current_app.config["MAILER"].app.is_https:
        # Browsers then never try the plain-http address again (a year, and the
        # subdomains, as the preload lists expect); under http it would be ignored
        # anyway, and an operator testing locally must not be locked out of http.
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response
