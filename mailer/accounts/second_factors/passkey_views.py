"""Registering, naming and removing passkeys, and signing in with one.

Managing one's passkeys lives under /admin/account/security/passkeys/ (the admin guard
covers it); signing in under /login/passkey/. The browser's side is
mailer/static/passkeys.js: options and answers go back and forth as JSON, with the CSRF
token in a header. The challenge handed to the browser is kept in this browser's
signed cookie, for one use: taken out before the answer is checked.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, cast

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

from mailer.accounts import methods, policy, sessions
from mailer.accounts.roles import Action
from mailer.accounts.second_factors import (
    adding_factors,
    factor_notice_views,
    passkey_sign_in,
    passkeys,
)
from mailer.accounts.second_factors.passkeys import Challenge, Options, PasskeyError
from mailer.accounts.security_views import render_security_page
from mailer.admin import held_at_enrolment
from mailer.admin.guards import acting_user, client_ip, open_during_enrolment, requires
from mailer.database import get_db
from mailer.delivery import factor_change_notice as notice
from mailer.web import section_notes, sign_in
from mailer.web.security import SESSION_KEY, clock, sign_in_method

passkeys_bp = Blueprint("passkeys", __name__)
section_notes.register(passkeys_bp)

MANAGE = "/admin/account/security/passkeys"
CHALLENGE_KEY = "passkey_challenge"
# A passkey's answer is a few kilobytes at most (an attestation with its certificates).
MAX_BODY_BYTES = 64 * 1024
SECTION = "passkeys"


# --- managing one's passkeys -------------------------------------------------------------


@passkeys_bp.post(f"{MANAGE}/options")
@open_during_enrolment
@requires(Action.CHANGE_OWN_PASSWORD)
def registration_options() -> ResponseReturnValue:
    db = get_db()
    try:
        with db.transaction(db.session) as s:
            me = acting_user(s)
            adding_factors.check(s, me, strong_session=_strong())
            options = passkeys.registration_options(s, me, rp=_rp(), now=clock())
    except adding_factors.NotConfirmed as exc:
        return _refused(str(exc), 403)
    return _hand_out(options)


@passkeys_bp.post(f"{MANAGE}/")
@open_during_enrolment
@requires(Action.CHANGE_OWN_PASSWORD)
def register() -> ResponseReturnValue:
    body = _json_body()
    if isinstance(body, Response):
        return body
    challenge = _take_challenge()
    name = body.get("name")
    db = get_db()
    try:
        with db.transaction(db.session) as s:
            me = acting_user(s)
            had_factor = adding_factors.check(s, me, strong_session=_strong())
            passkey = passkeys.register(
                s,
                me,
                rp=_rp(),
                challenge=challenge,
                answer=body.get("credential"),
                name=name if isinstance(name, str) else "",
                ip=client_ip(),
                now=clock(),
            )
            if held_at_enrolment() or not _strong():
                # This browser has now shown a second factor (a password-only one adds
                # only the first): the hold, if any, is over.
                sessions.strengthen(s, session.get(SESSION_KEY), method=methods.PASSWORD_PASSKEY)
            if not had_factor:
                adding_factors.first_added(
                    s, me, keep=session.get(SESSION_KEY), now=clock(), ip=client_ip()
                )
            factor_notice_views.tell(s, me, notice.PASSKEY_ADDED, name=passkey.name)
    except adding_factors.NotConfirmed as exc:
        return _refused(str(exc), 403)
    except PasskeyError as exc:
        return _refused(str(exc.args[0]))
    section_notes.note(SECTION, f"Passkey added: {passkey.name}.")
    return jsonify(redirect=url_for("security.index", _anchor="passkeys"))


@passkeys_bp.post(f"{MANAGE}/<int:passkey_id>/name")
@requires(Action.CHANGE_OWN_PASSWORD)
def rename(passkey_id: int) -> ResponseReturnValue:
    db = get_db()
    try:
        with db.transaction(db.session) as s:
            passkey = passkeys.rename(
                s, acting_user(s), passkey_id, name=request.form.get("name", "")
            )
    except PasskeyError as exc:
        return render_security_page(
            400,
            passkey_error=str(exc.args[0]),
            passkey_renaming=passkey_id,
            passkey_name=request.form.get("name", "")[: passkeys.MAX_NAME + 50],
        )
    section_notes.note(SECTION, f"Renamed to {passkey.name}.")
    return redirect(url_for("security.index", _anchor="passkeys"))


@passkeys_bp.post(f"{MANAGE}/<int:passkey_id>/remove")
@requires(Action.CHANGE_OWN_PASSWORD)
def remove(passkey_id: int) -> ResponseReturnValue:
    auth = current_app.config["MAILER"].auth
    db = get_db()
    try:
        with db.transaction(db.session) as s:
            me = acting_user(s)
            passkey = passkeys.remove(
                s,
                me,
                passkey_id,
                strong_session=_strong(),
                factor_required=policy.requires_second_factor(auth.require_second_factor, me.role),
                ip=client_ip(),
                now=clock(),
            )
            factor_notice_views.tell(s, me, notice.PASSKEY_REMOVED, name=passkey.name)
    except PasskeyError as exc:
        section_notes.note(SECTION, str(exc.args[0]), category="error")
    else:
        section_notes.note(SECTION, f"Removed {passkey.name}.")
    return redirect(url_for("security.index", _anchor="passkeys"))


# --- the second step of signing in ------------------------------------------------------


@passkeys_bp.post("/login/passkey/second-factor/options")
def second_factor_options() -> ResponseReturnValue:
    db = get_db()
    with db.transaction(db.session) as s:
        waiting = sign_in.pending(s, now=clock())
        if waiting is None:
            return _refused(_START_AGAIN, 400)
        options = passkey_sign_in.second_factor_options(s, waiting.user, rp=_rp(), now=clock())
    return _hand_out(options)


_START_AGAIN = "Sign in again: that sign-in was not finished in time."


@passkeys_bp.post("/login/passkey/second-factor")
@sign_in.braked_json
def second_factor() -> ResponseReturnValue:
    body = _json_body()
    if isinstance(body, Response):
        return body
    challenge = _take_challenge()
    now = clock()
    ip = client_ip()
    db = get_db()
    key = None
    with db.transaction(db.session) as s:
        waiting = sign_in.pending(s, now=now)
        if waiting is None:
            return _refused(_START_AGAIN, 400)
        outcome = passkey_sign_in.check_second_factor(
            s,
            waiting.user,
            rp=_rp(),
            challenge=challenge,
            answer=body.get("credential"),
            ip=ip,
            now=now,
        )
        if outcome.user is not None:
            key = sign_in.record(s, outcome.user, method=methods.PASSWORD_PASSKEY, ip=ip, now=now)
    if key is None:
        if outcome.retry_at is not None:
            # Refused by the account's limit before any passkey was looked at: nothing
            # was tried, so none of this sign-in's tries is used up.
            return _refused(outcome.refusal, 429)
        if not sign_in.count_wrong_answer():
            return _refused("Too many wrong answers. Sign in again with your password.", 400)
        return _refused(outcome.refusal)
    return _follow(sign_in.complete(waiting.user, key, next_path=waiting.next_path))


# --- a passkey on its own ------------------------------------------------------------------


@passkeys_bp.post("/login/passkey/options")
def sign_in_options() -> ResponseReturnValue:
    if not _passkey_sign_in_on():
        return _refused(_OFF, 404)
    return _hand_out(passkey_sign_in.sign_in_options(rp=_rp(), now=clock()))


_OFF = "Signing in with a passkey alone is turned off here. Use your password."


@passkeys_bp.post("/login/passkey/")
@sign_in.braked_json
def sign_in_with_passkey() -> ResponseReturnValue:
    if not _passkey_sign_in_on():
        return _refused(_OFF, 404)
    body = _json_body()
    if isinstance(body, Response):
        return body
    challenge = _take_challenge()
    config = current_app.config["MAILER"]
    now = clock()
    ip = client_ip()
    db = get_db()
    key = None
    with db.transaction(db.session) as s:
        outcome = passkey_sign_in.check_sign_in(
            s,
            rp=_rp(),
            challenge=challenge,
            answer=body.get("credential"),
            passwords_allowed=lambda email_key: policy.passwords_allowed(config.oidc, email_key),
            ip=ip,
            now=now,
        )
        if outcome.user is not None:
            key = sign_in.record(s, outcome.user, method=methods.PASSKEY, ip=ip, now=now)
    if outcome.user is None or key is None:
        return _refused(outcome.refusal, 429 if outcome.retry_at else 400)
    next_path = request.args.get("next", "")
    return _follow(sign_in.complete(outcome.user, key, next_path=next_path))


# --- helpers -------------------------------------------------------------------------------


def _rp() -> passkeys.RelyingParty:
    app = current_app.config["MAILER"].app
    return passkeys.relying_party(app.base_url, loopback=app.is_loopback)


@passkeys_bp.app_template_global("passkey_site")
def passkey_site() -> str:
    """The host name passkeys are made for: the script hides them (and says where they
    work) on a page opened under another name, such as the demo's 127.0.0.1."""
    return _rp().rp_id


def _strong() -> bool:
    """Whether this browser signed in with a second factor."""
    return methods.is_strong(sign_in_method())


@passkeys_bp.app_template_global("passkey_address")
def passkey_address() -> str:
    """Where passkeys work: base_url's origin. For a loopback base_url, "" (the script
    then says localhost on the port the page was opened on: any localhost port is
    accepted, and that one is surely this server's)."""
    rp = _rp()
    return "" if rp.loopback else rp.origin


def _passkey_sign_in_on() -> bool:
    return bool(current_app.config["MAILER"].auth.passkey_sign_in)


def _hand_out(options: Options) -> ResponseReturnValue:
    """The options to the browser; the challenge into this browser's cookie."""
    challenge = options.challenge
    session[CHALLENGE_KEY] = {
        "value": bytes_to_base64url(challenge.value),
        "purpose": challenge.purpose,
        "at": challenge.issued_at.timestamp(),
        "user": challenge.user_id,
    }
    response = current_app.response_class(options.json, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def _take_challenge() -> Challenge | None:
    """The challenge this browser was handed, taken out: it answers once."""
    data = session.pop(CHALLENGE_KEY, None)
    if not isinstance(data, dict):
        return None
    try:
        user = data.get("user")
        return Challenge(
            value=base64url_to_bytes(str(data["value"])),
            purpose=str(data["purpose"]),
            issued_at=datetime.fromtimestamp(float(data["at"]), tz=UTC),
            user_id=None if user is None else int(user),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _json_body() -> dict[str, Any] | Response:
    """The request's JSON object, or a 400 answer saying what was wrong with it."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return _refused("That request was too large to be a passkey's answer.", 400)
    raw = request.stream.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        return _refused("That request was too large to be a passkey's answer.", 400)
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        return _refused(passkeys.UNREADABLE, 400)
    return body


def _refused(sentence: str, status: int = 400) -> Response:
    response = jsonify(error=sentence)
    response.status_code = status
    return response


def _follow(done: ResponseReturnValue) -> ResponseReturnValue:
    """The redirect a completed sign-in gives, as JSON for the script to follow."""
    return jsonify(redirect=cast(Response, done).headers["Location"])


__all__ = ["passkeys_bp"]
