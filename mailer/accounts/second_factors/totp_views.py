"""Setting up and removing an authenticator app, and its recovery codes (one's own,
from the Sign-in security page). The key being set up and new recovery codes are shown
in the response to the form that made them, never in a flash message or a cookie."""

from __future__ import annotations

import segno
from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from sqlalchemy.orm import Session

from mailer.accounts import methods, sessions
from mailer.accounts.models import TotpSecret
from mailer.accounts.second_factors import (
    adding_factors,
    code_answers,
    factor_notice_views,
    factors,
    recovery_codes,
    totp,
)
from mailer.accounts.second_factors.sealing import KeyRing, SealBroken
from mailer.accounts.security_views import render_security_page
from mailer.admin.guards import acting_user, client_ip, open_during_enrolment
from mailer.database import get_db
from mailer.delivery import factor_change_notice as notice
from mailer.instance import secret_key
from mailer.organisation import service as organisation
from mailer.web.security import SESSION_KEY, clock, sign_in_method

totp_bp = Blueprint("totp", __name__, url_prefix="/admin/account/security/app")


def key_ring() -> KeyRing:
    config = current_app.config["MAILER"]
    return KeyRing.of(secret_key(config), config.app.old_secret_keys)


def issuer(s: Session) -> str:
    """The office's name, which the app shows beside the codes."""
    try:
        return organisation.get(s).name
    except LookupError:
        return "Stakeholder Mailer"


@totp_bp.app_context_processor
def _authenticator_app() -> dict[str, object]:
    # The Sign-in security page's section asks for the app's row (when it was set up).
    def authenticator_app() -> TotpSecret | None:
        db = get_db()
        return totp.confirmed(db.session, acting_user(db.session))

    return {"authenticator_app": authenticator_app, "strong_browser": strong_browser}


def strong_browser() -> bool:
    """Whether this browser signed in with a second factor (adding a factor to a user
    who has one, or making recovery codes without an app code, needs it)."""
    return methods.is_strong(sign_in_method())


def typed_code() -> str:
    return request.form.get("code", "")


# --- setting up -------------------------------------------------------------------------


@totp_bp.post("/setup")
@open_during_enrolment
def start() -> ResponseReturnValue:
    db = get_db()
    try:
        with db.transaction(db.session) as s:
            setup = totp.start(
                s,
                acting_user(s),
                keys=key_ring(),
                issuer=issuer(s),
                now=clock(),
                strong_session=strong_browser(),
            )
    except (totp.TotpError, adding_factors.NotConfirmed) as exc:
        return render_security_page(400, totp_error=str(exc))
    return _setup_page(setup)


@totp_bp.get("/setup")
@open_during_enrolment
def show_setup() -> ResponseReturnValue:
    setup = _being_set_up()
    if setup is None:
        return redirect(url_for("security.index") + "#app")
    return _setup_page(setup)


def _being_set_up() -> totp.Setup | None:
    """The key this browser is setting up (shown again after a mistyped code), if any."""
    db = get_db()
    try:
        return totp.being_set_up(
            db.session,
            acting_user(db.session),
            keys=key_ring(),
            issuer=issuer(db.session),
            strong_session=strong_browser(),
            now=clock(),
        )
    except SealBroken:
        return None


@totp_bp.post("/confirm")
@open_during_enrolment
def confirm() -> ResponseReturnValue:
    db = get_db()
    keys = key_ring()
    try:
        with db.transaction(db.session) as s:
            me = acting_user(s)
            code = code_answers.read(typed_code())
            if code is None or code[0] != "app":
                raise totp.TotpError(
                    "Type the 6 digits your authenticator app shows for this account."
                )
            done = totp.confirm(
                s,
                me,
                code=code[1],
                keys=keys,
                now=clock(),
                ip=client_ip(),
                strong_session=strong_browser(),
            )
            # This browser has now shown a second factor: a held user is released.
            sessions.strengthen(s, session.get(SESSION_KEY), method=methods.PASSWORD_TOTP)
            if done.first:
                adding_factors.first_added(
                    s, me, keep=session.get(SESSION_KEY), now=clock(), ip=client_ip()
                )
            factor_notice_views.tell(
                s, me, notice.APP_REPLACED if done.replaced else notice.APP_ADDED
            )
    except adding_factors.NotConfirmed as exc:
        return render_security_page(400, totp_error=str(exc))
    except totp.TotpError as exc:
        setup = _being_set_up()
        if setup is None:
            return render_security_page(400, totp_error=str(exc))
        return _setup_page(setup, error=str(exc), status=400)
    return _codes_page(done.codes, first=True, replaced=done.replaced)


def _setup_page(setup: totp.Setup, *, error: str = "", status: int = 200) -> ResponseReturnValue:
    qr = segno.make(setup.uri, error="m").svg_inline(
        scale=4, title="QR code to scan with your authenticator app", svgclass="qr"
    )
    response = make_response(
        render_template(
            "admin/account/totp_setup.html",
            setup=setup,
            qr=Markup(qr),  # noqa: S704 - drawn here by segno from our own URI
            error=error,
        ),
        status,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _codes_page(codes: list[str], *, first: bool, replaced: bool = False) -> ResponseReturnValue:
    response = make_response(
        render_template(
            "admin/account/recovery_codes.html", codes=codes, first=first, replaced=replaced
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# --- a held browser confirming with an app set up elsewhere ------------------------------


@totp_bp.post("/confirm-session")
@open_during_enrolment
def confirm_session() -> ResponseReturnValue:
    db = get_db()
    with db.transaction(db.session) as s:
        answer = code_answers.check(
            s,
            acting_user(s),
            text=typed_code(),
            keys=key_ring(),
            now=clock(),
            ip=client_ip(),
            purpose="confirming a browser",
        )
        if answer.ok:
            sessions.strengthen(s, session.get(SESSION_KEY), method=answer.method)
    if not answer.ok:
        return render_security_page(429 if answer.throttled else 400, confirm_error=answer.error)
    if answer.used_recovery_code:
        flash(left_words(answer.recovery_left or 0), "warning")
    flash("Confirmed: this browser can now use everything your role allows.", "success")
    return redirect(url_for("admin.dashboard"))


# --- removing, and new recovery codes ----------------------------------------------------


@totp_bp.post("/remove")
def remove() -> ResponseReturnValue:
    db = get_db()
    auth = current_app.config["MAILER"].auth
    now = clock()
    try:
        with db.transaction(db.session) as s:
            me = acting_user(s)
            totp.refuse_removal(s, me, require_second_factor=auth.require_second_factor)
            answer = code_answers.check(
                s,
                me,
                text=typed_code(),
                keys=key_ring(),
                now=now,
                ip=client_ip(),
                purpose="removing the app",
            )
            if answer.ok:
                totp.remove(s, me, now=now, ip=client_ip())
                factor_notice_views.tell(s, me, notice.APP_REMOVED)
    except totp.TotpError as exc:
        return render_security_page(400, remove_error=str(exc))
    if not answer.ok:
        return render_security_page(429 if answer.throttled else 400, remove_error=answer.error)
    flash("Your authenticator app has been removed.", "success")
    return redirect(url_for("security.index"))


@totp_bp.post("/recovery-codes")
def new_recovery_codes() -> ResponseReturnValue:
    """New codes: a browser that signed in with a second factor makes them at once;
    any other needs a code from the app (a recovery code cannot make its successors)."""
    db = get_db()
    now = clock()
    keys = key_ring()
    with db.transaction(db.session) as s:
        me = acting_user(s)
        if not factors.has_any(s, me.id):
            answer = code_answers.Answer(
                False, error="Set up an authenticator app or a passkey first."
            )
        elif strong_browser():
            answer = code_answers.Answer(True)
        else:
            answer = code_answers.check(
                s,
                me,
                text=typed_code(),
                keys=keys,
                now=now,
                ip=client_ip(),
                recovery=False,
                purpose="making new recovery codes",
            )
        codes = []
        if answer.ok:
            codes = recovery_codes.make(s, me, keys=keys, now=now, ip=client_ip())
            factor_notice_views.tell(s, me, notice.CODES_MADE)
    if not answer.ok:
        return render_security_page(429 if answer.throttled else 400, codes_error=answer.error)
    return _codes_page(codes, first=False)


def left_words(left: int) -> str:
    """What someone is told after using a recovery code."""
    if left == 0:
        return "You have used your last recovery code. Make new ones on the Sign-in security page."
    plural = "s" if left != 1 else ""
    if left <= recovery_codes.FEW:
        return (
            f"You have {left} recovery code{plural} left. "
            "Make new ones soon on the Sign-in security page."
        )
    return f"You have {left} recovery code{plural} left."


__all__ = ["key_ring", "left_words", "totp_bp"]
