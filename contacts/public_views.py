"""Public pages behind the links in every message: /u/<token> and /p/<token>.

No sign-in: the signed token is the credential. Mail scanners follow links, so a GET
never changes anything; the one-click POST (RFC 8058) needs nothing but the URL and
its body, so it is exempt from CSRF (a forged request could only unsubscribe, which
the token's owner can undo).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from contacts import link_owner, subscriptions, tokens
from contacts.models import ACTIVE, Contact
from mailer import public_urls
from mailer.database import get_db
from mailer.delivery import sends
from mailer.web.security import csrf

public_bp = Blueprint("subscriptions", __name__)


class _LinkGone(Exception):
    """A real link that acts on nobody now (see contacts.link_owner)."""


def _keys() -> list[str]:
    """The keys links are signed with, from this app's configuration."""
    return tokens.secret_keys(current_app.config)


def _contact(purpose: str, token: str) -> tuple[Contact, tokens.LinkToken]:
    try:
        found = link_owner.owner(
            get_db().session, purpose, token, keys=_keys(), was_delivered=sends.was_delivered
        )
    except link_owner.Refused as refused:
        if refused.forged:
            abort(404)
        raise _LinkGone from None
    return found.contact, found.token


@public_bp.errorhandler(_LinkGone)
def _link_gone(_error: _LinkGone) -> ResponseReturnValue:
    # Its person was erased (or it cannot be proven whose it is): nothing was done.
    return render_template("public/link_gone.html"), 404


@public_bp.app_context_processor
def _helpers() -> dict[str, object]:
    def preferences_token(contact: Contact) -> str:
        return link_owner.preferences_token(contact, keys=_keys())

    return {"preferences_token": preferences_token}


@public_bp.after_request
def _private(response: Response) -> Response:
    # The URL is a credential: keep it out of caches and out of Referer headers.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _unsubscribe_page(contact: Contact, token: str, *, done: bool, **extra: object) -> str:
    return render_template(
        "public/unsubscribe.html",
        contact=contact,
        token=token,
        masked=subscriptions.masked(contact.email),
        done=done,
        **extra,
    )


@public_bp.get(public_urls.UNSUBSCRIBE)
def unsubscribe_page(token: str) -> ResponseReturnValue:
    contact, _parsed = _contact(tokens.UNSUBSCRIBE, token)
    return _unsubscribe_page(contact, token, done=False)


@public_bp.post(public_urls.UNSUBSCRIBE)
@csrf.exempt
def unsubscribe(token: str) -> ResponseReturnValue:
    contact, parsed = _contact(tokens.UNSUBSCRIBE, token)
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    db = get_db()
    with db.transaction(db.session) as session:
        subscriptions.unsubscribe(session, contact, send_id=parsed.send_id, one_click=one_click)
    return _unsubscribe_page(contact, token, done=True)


@public_bp.post(public_urls.RESUBSCRIBE)
def resubscribe(token: str) -> ResponseReturnValue:
    contact, _parsed = _contact(tokens.UNSUBSCRIBE, token)
    if request.form.get("confirm") != "yes":
        flash("Tick the box to confirm you want these emails again.", "error")
        return _unsubscribe_page(contact, token, done=True, confirm_error=True), 400
    db = get_db()
    with db.transaction(db.session) as session:
        subscriptions.resubscribe(session, contact)
    if contact.status == ACTIVE:
        flash("You are subscribed again.", "success")
    else:
        # A complaint (marked as spam) or the office's own suppression holds the address.
        flash(
            "We cannot start sending to this address again from here. "
            "Please contact the office if you want our emails again.",
            "error",
        )
    return redirect(url_for("subscriptions.unsubscribe_page", token=token))


@public_bp.route(public_urls.PREFERENCES, methods=["GET", "POST"])
def preferences(token: str) -> ResponseReturnValue:
    contact, _parsed = _contact(tokens.PREFERENCES, token)
    db = get_db()
    if request.method == "POST":
        chosen = {int(v) for v in request.form.getlist("list") if v.isdigit()}
        with db.transaction(db.session) as session:
            joined, left = subscriptions.set_preferences(session, contact, chosen=chosen)
        flash("Your choices are saved." if joined or left else "Nothing changed.", "success")
        return redirect(url_for("subscriptions.preferences", token=token))
    return render_template(
        "public/preferences.html",
        contact=contact,
        token=token,
        masked=subscriptions.masked(contact.email),
        lists=subscriptions.choosable_lists(db.session),
        member=subscriptions.member_list_ids(db.session, contact),
        unsubscribe_token=link_owner.unsubscribe_token(contact, keys=_keys()),
    )


# The stand-in links of previews and test messages (public_urls.TEST_TOKEN). Static
# routes win over /u/<token>, so no real token can be shadowed ("test" is not a valid
# signed token anyway).
@public_bp.route(public_urls.UNSUBSCRIBE_TEST, methods=["GET", "POST"])
@public_bp.get(public_urls.PREFERENCES_TEST)
@csrf.exempt
def test_link() -> ResponseReturnValue:
    return render_template("public/test_link.html")
