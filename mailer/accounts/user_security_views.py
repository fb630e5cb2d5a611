"""A user's sign-in security, for admins: their second factors and the browsers they
are signed in on, "Reset second factors" (after a confirming step) and "Sign out of
every browser". The reset and its email to the user happen in one transaction."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from mailer.accounts import session_list
from mailer.accounts.models import User
from mailer.accounts.roles import Action
from mailer.accounts.second_factors import factor_reset, factors
from mailer.accounts.service import AccountError
from mailer.admin.guards import acting_user, client_ip, requires
from mailer.database import get_db
from mailer.delivery import factor_reset_notice
from mailer.web.security import clock

user_security_bp = Blueprint("user_security", __name__, url_prefix="/admin/users")


@user_security_bp.get("/<int:user_id>/")
@requires(Action.RESET_SECOND_FACTORS)
def show(user_id: int) -> ResponseReturnValue:
    return _page("admin/users/detail.html", user_id)


@user_security_bp.get("/<int:user_id>/reset-second-factors")
@requires(Action.RESET_SECOND_FACTORS)
def confirm_reset(user_id: int) -> ResponseReturnValue:
    return _page("admin/users/reset.html", user_id)


@user_security_bp.post("/<int:user_id>/reset-second-factors")
@requires(Action.RESET_SECOND_FACTORS)
def reset(user_id: int) -> ResponseReturnValue:
    db = get_db()
    config = current_app.config["MAILER"]
    now = clock()
    try:
        with db.transaction(db.session) as s:
            done = factor_reset.reset(
                s, _user_or_404(s, user_id), by=acting_user(s), now=now, ip=client_ip()
            )
            factor_reset_notice.tell(
                s,
                config,
                done,
                sign_in_url=config.app.base_url.rstrip("/") + url_for("auth.login"),
                now=now,
            )
    except AccountError as exc:
        flash(str(exc), "error")
        return redirect(url_for("user_security.show", user_id=user_id))
    flash(
        f"Reset the second factors of {done.user_email} and signed them out of every "
        "browser. They have been told by email.",
        "success",
    )
    return redirect(url_for("user_security.show", user_id=user_id))


@user_security_bp.post("/<int:user_id>/sign-out")
@requires(Action.RESET_SECOND_FACTORS)
def sign_out(user_id: int) -> ResponseReturnValue:
    db = get_db()
    try:
        with db.transaction(db.session) as s:
            user = _user_or_404(s, user_id)
            ended = factor_reset.end_sessions(
                s, user, by=acting_user(s), now=clock(), ip=client_ip()
            )
    except AccountError as exc:
        flash(str(exc), "error")
        return redirect(url_for("user_security.show", user_id=user_id))
    flash(
        f"Signed {user.email} out of {ended} browser{'' if ended == 1 else 's'}."
        if ended
        else f"{user.email} was not signed in anywhere.",
        "success" if ended else "info",
    )
    return redirect(url_for("user_security.show", user_id=user_id))


@user_security_bp.app_template_global()
def second_factors_of(user: User) -> factors.Factors:
    """For the users list: what second factors ``user`` has."""
    return factors.summary(get_db().session, user)


def _page(template: str, user_id: int) -> ResponseReturnValue:
    db = get_db()
    user = _user_or_404(db.session, user_id)
    auth = current_app.config["MAILER"].auth
    return render_template(
        template,
        user=user,
        factors=factors.summary(db.session, user),
        browsers=session_list.listing(
            db.session, user, now=clock(), idle=auth.session_idle, longest=auth.session_max
        ),
        is_me=user.id == acting_user(db.session).id,
    )


def _user_or_404(s: Session, user_id: int) -> User:
    user = s.get(User, user_id)
    if user is None:
        abort(404)
    return user


__all__ = ["user_security_bp"]
