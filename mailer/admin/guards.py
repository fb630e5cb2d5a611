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


def acting_user(session=None):  # type: ignore[no-untyped-def]
    """The signed-in user as a row of ``session`` (the request's by default), for
    services that record who acted. 403 if the account has gone meanwhile."""
    from mailer.accounts.models import User
    from mailer.database import get_db

    session = session or get_db().session
    user = session.get(User, current_user.id)
    if user is None:
        abort(403)
    return user
