"""Sign-in sessions, CSRF protection and response headers for every page."""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from mailer.accounts import service as accounts
from mailer.database import get_db

HSTS = "max-age=31536000; includeSubDomains"

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in to continue."
login_manager.login_message_category = "info"
# "strong" would sign people out when a phone hops between networks; the session
# token on the user already ends sessions on a password change or disabling.
login_manager.session_protection = "basic"


@login_manager.user_loader
def _load_user(login_id: str):  # type: ignore[no-untyped-def]
    return accounts.get_by_login_id(get_db().session, login_id)


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    login_manager.init_app(app)
    app.after_request(_security_headers)


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    # Every asset is ours and local (the product must work on a closed network).
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    )
    if request.path.startswith("/admin") or request.path == "/login":
        headers.setdefault("Cache-Control", "no-store")
    if current_app.config["MAILER"].app.is_https:
        # Browsers then never try the plain-http address again (a year, and the
        # subdomains, as the preload lists expect); under http it would be ignored
        # anyway, and an operator testing locally must not be locked out of http.
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response
