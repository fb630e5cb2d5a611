"""Single sign-on with the office's OpenID Connect provider."""

from __future__ import annotations

from flask import Blueprint

oidc_bp = Blueprint("oidc", __name__, url_prefix="/login/sso")

__all__ = ["oidc_bp"]
