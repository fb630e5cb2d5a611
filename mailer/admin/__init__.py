"""The admin area: everything under /admin/ requires a signed-in, active user."""

from __future__ import annotations

from flask import Flask, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from mailer.admin import guards

ADMIN_PREFIX = "/admin"


def init_app(app: Flask) -> None:
    # An app-level hook registered before CSRFProtect's, so an anonymous POST meets
    # the sign-in page rather than a CSRF error, and by path, so even an unknown
    # /admin/ address says nothing about which pages exist.
    app.before_request(_require_login)
    guards.init_app(app)


def _require_login() -> ResponseReturnValue | None:
    path = request.path
    if path != ADMIN_PREFIX and not path.startswith(ADMIN_PREFIX + "/"):
        return None
    if current_user.is_authenticated:
        return None
    # Only a GET is worth returning to; a POST would have to be re-sent anyway.
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("auth.login", next=target))


__all__ = ["init_app"]
