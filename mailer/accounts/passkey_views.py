"""Registering, naming and removing passkeys, and signing in with one."""

from __future__ import annotations

from flask import Blueprint

passkeys_bp = Blueprint("passkeys", __name__)

__all__ = ["passkeys_bp"]
