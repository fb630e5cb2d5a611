"""Single sign-on with the office's OpenID Connect provider.

``/login/sso/`` is reached by a plain link (a form could not redirect off-site under
the page's ``form-action 'self'``): it sends the browser to the provider, remembering
the state, nonce and PKCE verifier in the signed cookie. ``/login/sso/callback`` is
where the provider sends it back: the answer is checked (mailer/accounts/sso/oidc.py) and
the user signed in, or shown why not on the sign-in page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user

from mailer.accounts import methods
from mailer.accounts.forms import LoginForm
from mailer.accounts.sso import oidc
from mailer.admin.guards import client_ip
from mailer.config import OidcSection
from mailer.database import get_db
from mailer.web import sign_in
from mailer.web.redirects import safe_admin_path
from mailer.web.security import clock

oidc_bp = Blueprint("oidc", __name__, url_prefix="/login/sso")

# Where the signed cookie keeps a sign-in begun at the provider, and for how long it
# may take there.
FLOW = "sso_flow"
FLOW_FOR = timedelta(minutes=10)


@dataclass(frozen=True)
class Button:
    """What the sign-in page needs to offer single sign-on."""

    name: str
    only: bool


@oidc_bp.app_context_processor
def _sso_button() -> dict[str, Any]:
    config = current_app.config["MAILER"].oidc
    return {"sso": Button(config.name, config.only) if config is not None else None}


def _config() -> OidcSection:
    config: OidcSection | None = current_app.config["MAILER"].oidc
    if config is None:
        abort(404)
    return config


def _redirect_uri() -> str:
    # The address registered at the provider: built from base_url, as every address
    # the product gives out is, never from the request's Host header.
    return current_app.config["MAILER"].app.base_url.rstrip("/") + url_for("oidc.callback")


@oidc_bp.get("/")
def start() -> ResponseReturnValue:
    config = _config()
    next_path = safe_admin_path(request.args.get("next")) or ""
    if current_user.is_authenticated:
        return redirect(next_path or url_for("admin.dashboard"))
    try:
        flow = oidc.begin(config, redirect_uri=_redirect_uri())
    except oidc.SsoRefused as refusal:
        return _refused(refusal, next_path=next_path, status=503)
    session[FLOW] = {
        "state": flow.state,
        "nonce": flow.nonce,
        "verifier": flow.code_verifier,
        "next": next_path,
        "at": clock().timestamp(),
    }
    return redirect(flow.url)


@dataclass(frozen=True)
class _Begun:
    state: str
    nonce: str
    verifier: str
    next_path: str


def _begun(data: object, *, now: datetime) -> _Begun:
    """The sign-in this browser began, or one with no state (refused as not begun
    here) when there is none or it is too old."""
    if not isinstance(data, dict):
        return _Begun("", "", "", "")
    try:
        at = float(data["at"])
        begun = _Begun(
            str(data["state"]), str(data["nonce"]), str(data["verifier"]), str(data["next"])
        )
    except (KeyError, TypeError, ValueError):
        return _Begun("", "", "", "")
    if not 0 <= now.timestamp() - at <= FLOW_FOR.total_seconds():
        return _Begun("", "", "", begun.next_path)
    return begun


@oidc_bp.get("/callback")
def callback() -> ResponseReturnValue:
    config = _config()
    now = clock()
    ip = client_ip()
    # Used once: a second visit to the same answer finds nothing begun.
    begun = _begun(session.pop(FLOW, None), now=now)
    db = get_db()
    try:
        code = oidc.check_answer(config, expected_state=begun.state, args=request.args)
        identity = oidc.finish(
            config,
            code=code,
            code_verifier=begun.verifier,
            nonce=begun.nonce,
            redirect_uri=_redirect_uri(),
            now=now,
        )
        with db.transaction(db.session) as s:
            user = oidc.sign_in(s, config, identity, ip=ip, now=now)
            key = sign_in.record(s, user, method=methods.SSO, ip=ip, now=now)
    except oidc.SsoRefused as refusal:
        with db.transaction(db.session) as s:
            oidc.record_refusal(s, refusal, ip=ip)
        status = 503 if refusal.reason.startswith("provider unreachable") else 403
        return _refused(refusal, next_path=begun.next_path, status=status)
    # Single sign-on is strong (the provider applies its own second factor): never
    # held at enrolment, never asked for a factor here.
    return sign_in.complete(user, key, next_path=begun.next_path)


def _refused(refusal: oidc.SsoRefused, *, next_path: str, status: int) -> ResponseReturnValue:
    form = LoginForm()
    form.next.data = next_path
    body = render_template("auth/login.html", form=form, error=str(refusal))
    return body, status, {"Cache-Control": "no-store"}


__all__ = ["oidc_bp"]
