"""The admin area: everything under /admin/ requires a signed-in, active user."""

from __future__ import annotations

from flask import Flask, current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from mailer.accounts import methods, policy
from mailer.admin import guards
from mailer.web.security import sign_in_method

ADMIN_PREFIX = "/admin"


def init_app(app: Flask) -> None:
    # An app-level hook registered before CSRFProtect's, so an anonymous POST meets
    # the sign-in page rather than a CSRF error, and by path, so even an unknown
    # /admin/ address says nothing about which pages exist.
    app.before_request(_require_login)
    guards.init_app(app)
    # The admin's menu is left out for someone who may use nothing else yet.
    app.jinja_env.globals["held_at_enrolment"] = held_at_enrolment


def _require_login() -> ResponseReturnValue | None:
    path = request.path
    if path != ADMIN_PREFIX and not path.startswith(ADMIN_PREFIX + "/"):
        return None
    if current_user.is_authenticated:
        if held_at_enrolment() and not _open_during_enrolment():
            return redirect(url_for("security.index"))
        return None
    # Only a GET is worth returning to; a POST would have to be re-sent anyway.
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("auth.login", next=target))


def held_at_enrolment() -> bool:
    """Whether the signed-in user must use a second factor and this browser signed in
    without one: until they set one up (or confirm one they have), the Sign-in security
    page is all they may use."""
    if not current_user.is_authenticated:
        return False
    required = policy.requires_second_factor(
        current_app.config["MAILER"].auth.require_second_factor, current_user.role
    )
    return required and not methods.is_strong(sign_in_method())


def _open_during_enrolment() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "open_during_enrolment", False))


__all__ = ["held_at_enrolment", "init_app"]
