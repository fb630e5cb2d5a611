"""Setting up and removing an authenticator app, and its recovery codes."""

from __future__ import annotations

from flask import Blueprint

totp_bp = Blueprint("totp", __name__, url_prefix="/admin/account/security/app")

__all__ = ["totp_bp"]
