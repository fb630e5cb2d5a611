"""The second step of signing in: a code from the authenticator app, a recovery code,
or a passkey, after a correct password (mailer/web/sign_in.py keeps who is pending)."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from mailer.accounts.second_factors import code_answers, factors
from mailer.accounts.second_factors.totp_views import key_ring, left_words
from mailer.admin.guards import client_ip
from mailer.database import Database, get_db
from mailer.web import sign_in
from mailer.web.security import clock

second_factor_bp = Blueprint("second_factor", __name__, url_prefix="/login/second-factor")

START_AGAIN = "Sign in again: that sign-in was not finished in time."
TOO_MANY = "Too many wrong codes. Type your password again to start over."


@second_factor_bp.get("/")
def index() -> ResponseReturnValue:
    db = get_db()
    waiting = sign_in.pending(db.session, now=clock())
    if waiting is None:
        return _start_again(START_AGAIN)
    return _page(waiting)


@second_factor_bp.post("/")
def answer() -> ResponseReturnValue:
    db = get_db()
    # Behind the brake too: a distributed guesser holding a password pays its wait for
    # every code tried, as for every password.
    with sign_in.brake(db) as admitted:
        if not admitted:
            waiting = sign_in.pending(db.session, now=clock())
            if waiting is None:
                return _start_again(START_AGAIN)
            return _page(waiting, error=sign_in.BRAKED, status=429)
        return _answer(db)


def _answer(db: Database) -> ResponseReturnValue:
    now = clock()
    ip = client_ip()
    with db.transaction(db.session) as s:
        waiting = sign_in.pending(s, now=now)
        if waiting is None:
            result = None
        else:
            result = code_answers.check(
                s, waiting.user, text=request.form.get("code", ""), keys=key_ring(), now=now, ip=ip
            )
            key = (
                sign_in.record(s, waiting.user, method=result.method, ip=ip, now=now)
                if result.ok
                else None
            )
    if waiting is None or result is None:
        return _start_again(START_AGAIN)
    if result.ok and key is not None:
        response = sign_in.complete(waiting.user, key, next_path=waiting.next_path)
        if result.used_recovery_code:
            flash(left_words(result.recovery_left or 0), "warning")
        return response
    error = result.error
    if result.counted:
        left = sign_in.count_wrong_answer()
        if left == 0:
            return _start_again(TOO_MANY)
        error += f" {left} tr{'ies' if left != 1 else 'y'} left before you must start again."
    return _page(waiting, error=error, status=429 if result.throttled else 400)


def _page(waiting: sign_in.Pending, *, error: str = "", status: int = 200) -> Response:
    response = make_response(
        render_template(
            "auth/second_factor.html",
            pending_user=waiting.user,
            factors=factors.summary(get_db().session, waiting.user),
            error=error,
        ),
        status,
    )
    # The page names who is signing in: not kept by the browser or a proxy.
    response.headers["Cache-Control"] = "no-store"
    return response


def _start_again(message: str) -> ResponseReturnValue:
    sign_in.abandon()
    flash(message, "info")
    return redirect(url_for("auth.login"))


__all__ = ["second_factor_bp"]
