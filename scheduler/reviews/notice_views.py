"""Turning review notices off: the switch on My account, and the public page a
notice's "stop these emails" link opens, which a mail program's one-click unsubscribe
(RFC 8058) also posts to."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from contacts import tokens as link_tokens
from mailer import audit, public_urls
from mailer.accounts.models import User
from mailer.admin.guards import acting_user
from mailer.audit import actions
from mailer.database import get_db
from mailer.web.security import csrf
from scheduler.reviews import tokens

notices_bp = Blueprint("review_notices", __name__)


def _keys() -> tuple[str, ...]:
    return tuple(link_tokens.secret_keys(current_app.config))


def _switch(session: Session, user: User, *, off: bool, how: str) -> None:
    if user.notices_off == off:
        return
    user.notices_off = off
    audit.record(
        session,
        actions.REVIEW_NOTICES_OFF,
        actor=user,
        target_type="user",
        target_id=user.id,
        summary=f"{user.email} turned approval emails {'off' if off else 'on'} ({how})",
    )


def account_notices() -> ResponseReturnValue:
    """The switch on My account: anyone signed in, for themselves only."""
    off = request.form.get("notices") == "off"
    db = get_db()
    with db.transaction(db.session) as session:
        _switch(session, acting_user(session), off=off, how="My account")
    flash(
        "You will not get emails about approvals."
        if off
        else "You will get emails about approvals again.",
        "success",
    )
    return redirect(url_for("account.index_own"))


def _one_click() -> bool:
    """A mail program's one-click unsubscribe (RFC 8058): exactly the body
    ``List-Unsubscribe=One-Click``, nothing else."""
    return request.form.to_dict(flat=False) == {"List-Unsubscribe": ["One-Click"]}


@notices_bp.route(public_urls.NOTICES_OFF, methods=["GET", "POST"])
@csrf.exempt
def notices_off(token: str) -> ResponseReturnValue:
    """A notice's own link: shows a button; the button turns that reader's notices
    off. A forged, altered or expired link changes nothing.

    CSRF is checked here rather than by the blanket guard: a mail program's one-click
    POST (RFC 8058) carries no form token, and the signed token in the address is
    the proof it is that reader's. Any other POST (the page's button) needs its CSRF
    token. Both answer with the page itself, never a redirect; doing it twice is
    the same as once."""
    db = get_db()
    one_click = request.method == "POST" and _one_click()
    checked = current_app.config.get("WTF_CSRF_ENABLED", True)
    if request.method == "POST" and not one_click and checked:
        csrf.protect()  # raises CSRFError: the app's own 400 page
    user = tokens.owner(db.session, token, secret_keys=_keys())
    if user is None:
        return render_template("public/notices_off.html", user=None, done=False), 404
    done = False
    if request.method == "POST":
        how = "one-click in a mail program" if one_click else "the link in a notice"
        with db.transaction(db.session) as session:
            _switch(session, user, off=True, how=how)
        done = True
    return render_template("public/notices_off.html", user=user, token=token, done=done)


def register(bp: Blueprint) -> None:
    """Add the My account switch to the admin's reviews blueprint."""
    bp.post("/account/notices")(account_notices)
