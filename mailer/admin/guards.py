"""Capability checks for admin views (sign-in itself is checked by admin_bp)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user


def requires(capability: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Allow the view only to users whose ``capability`` property is true (else 403)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not getattr(current_user, capability, False):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def client_ip() -> str:
    from flask import request

    return request.remote_addr or ""
