"""The admin area: everything under /admin/ requires a signed-in, active user."""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for
from flask_login import current_user

admin_bp = Blueprint("admin", __name__, url_prefix="/admin")


@admin_bp.before_request
def _require_login():  # type: ignore[no-untyped-def]
    if not current_user.is_authenticated:
        # Only a GET is worth returning to; a POST would have to be re-sent anyway.
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("auth.login", next=target))
    return None


from mailer.admin import dashboard  # noqa: E402  (registers the dashboard routes)

__all__ = ["admin_bp", "dashboard"]
