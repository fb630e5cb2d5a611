"""Sign-in security, one's own: the authenticator app, recovery codes, passkeys and the
browsers signed in. Someone held at enrolment (mailer/admin) lands here."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue

from mailer.accounts import policy, session_list, sessions
from mailer.accounts.second_factors import factors
from mailer.accounts.service import AccountError
from mailer.admin import held_at_enrolment
from mailer.admin.guards import acting_user, client_ip, open_during_enrolment
from mailer.database import get_db
from mailer.web.security import SESSION_KEY, clock

security_bp = Blueprint("security", __name__, url_prefix="/admin/account/security")


@security_bp.get("/")
@open_during_enrolment
def index() -> ResponseReturnValue:
    return render_security_page()


def render_security_page(status: int = 200, **extra: object) -> tuple[str, int]:
    """The page, with whatever a form being answered adds (errors, a new key)."""
    db = get_db()
    me = acting_user(db.session)
    auth = current_app.config["MAILER"].auth
    return render_template(
        "admin/account/security.html",
        factors=factors.summary(db.session, me),
        held=held_at_enrolment(),
        required=policy.requires_second_factor(auth.require_second_factor, me.role),
        open_sessions=sessions.open_sessions(
            db.session, me, now=clock(), idle=auth.session_idle, longest=auth.session_max
        ),
        current_key=session.get(SESSION_KEY),
        is_current=sessions.is_current,
        browsers=session_list.listing(
            db.session,
            me,
            now=clock(),
            idle=auth.session_idle,
            longest=auth.session_max,
            current_key=session.get(SESSION_KEY),
        ),
        **extra,
    ), status


@security_bp.post("/browsers/others/sign-out")
def sign_out_others() -> ResponseReturnValue:
    db = get_db()
    try:
        with db.transaction(db.session) as s:
            ended = session_list.sign_out_others(
                s, acting_user(s), keep=session.get(SESSION_KEY), now=clock(), ip=client_ip()
            )
    except AccountError as exc:
        flash(str(exc), "error")
        return redirect(url_for("security.index"))
    if ended:
        flash(f"Signed out of {_browsers(ended)}. This browser is still signed in.", "success")
    else:
        flash("You were not signed in on any other browser.", "info")
    return redirect(url_for("security.index", _anchor="browsers-heading"))


@security_bp.post("/browsers/<int:session_id>/sign-out")
def sign_out_one(session_id: int) -> ResponseReturnValue:
    db = get_db()
    try:
        with db.transaction(db.session) as s:
            ended = session_list.sign_out_one(
                s,
                acting_user(s),
                session_id=session_id,
                keep=session.get(SESSION_KEY),
                now=clock(),
                ip=client_ip(),
            )
    except AccountError as exc:
        flash(str(exc), "error")
        return redirect(url_for("security.index"))
    if ended is None:
        flash("That browser was already signed out.", "info")
    else:
        flash(f"Signed out of {ended.browser} ({ended.network}).", "success")
    return redirect(url_for("security.index", _anchor="browsers-heading"))


def _browsers(count: int) -> str:
    return "1 other browser" if count == 1 else f"{count} other browsers"


__all__ = ["render_security_page", "security_bp"]
