"""Sign-in security, one's own: the authenticator app, recovery codes, passkeys and the
browsers signed in. Someone held at enrolment (mailer/admin) lands here."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, session
from flask.typing import ResponseReturnValue

from mailer.accounts import factors, policy, sessions
from mailer.admin import held_at_enrolment
from mailer.admin.guards import acting_user, open_during_enrolment
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
        **extra,
    ), status


__all__ = ["render_security_page", "security_bp"]
