"""The second step of signing in: a code from the authenticator app, a recovery code,
or a passkey, after a correct password (mailer/web/sign_in.py keeps who is pending)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from mailer.accounts import factors
from mailer.database import get_db
from mailer.web import sign_in
from mailer.web.security import clock

second_factor_bp = Blueprint("second_factor", __name__, url_prefix="/login/second-factor")


@second_factor_bp.get("/")
def index() -> ResponseReturnValue:
    db = get_db()
    waiting = sign_in.pending(db.session, now=clock())
    if waiting is None:
        sign_in.abandon()
        flash("Sign in again: that sign-in was not finished in time.", "info")
        return redirect(url_for("auth.login"))
    return render_template(
        "auth/second_factor.html",
        pending_user=waiting.user,
        factors=factors.summary(db.session, waiting.user),
    )


__all__ = ["second_factor_bp"]
