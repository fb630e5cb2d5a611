"""Role checks for admin views (sign-in itself is checked by admin_bp).

Who may do what lives in one table, mailer/accounts/roles.py; ``requires`` asks it, and
a refusal anywhere (a view, or a service it calls) answers 403 with the sentence that
says who may.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from flask import Flask, abort, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from mailer.accounts import roles
from mailer.accounts.roles import Action

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from mailer.accounts.models import User

# The capability properties on User, each one row of the table.
_CAPABILITIES = {
    "can_edit": Action.EDIT,
    "can_approve": Action.APPROVE,
    "can_manage_users": Action.MANAGE_USERS,
    "can_read_audit": Action.READ_AUDIT,
}


def requires(action: Action | str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Allow the view only to users whose role the table allows ``action`` (else 403).
    ``action`` may also be a capability name such as "can_edit"."""
    wanted = _CAPABILITIES[action] if action in _CAPABILITIES else Action(action)

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            roles.require(current_user, wanted)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def open_during_enrolment(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark an admin view as usable by someone held at enrolment (who must set up a
    second factor before anything else): the setting-up pages themselves."""
    view.open_during_enrolment = True  # type: ignore[attr-defined]
    return view


def init_app(app: Flask) -> None:
    app.register_error_handler(roles.NotAllowed, _not_allowed)
    # Templates offer a button only to someone who may use it: {% if may('pause_send') %}.
    app.jinja_env.globals["may"] = _may
    app.jinja_env.globals["Action"] = Action


def _may(action: Action | str, held_by: str | None = None) -> bool:
    return roles.may(current_user, Action(action), held_by=held_by)


def _not_allowed(error: roles.NotAllowed) -> ResponseReturnValue:
    return render_template(
        "errors/error.html",
        status=403,
        title="You do not have permission to do that",
        advice=str(error),
    ), 403


def client_ip() -> str:
    from flask import request

    return request.remote_addr or ""


def acting_user(session: Session | None = None) -> User:
    """The signed-in user as a row of ``session`` (the request's by default), for
    services that record who acted. 403 if the account has gone meanwhile."""
    from mailer.accounts.models import User
    from mailer.database import get_db

    session = session or get_db().session
    user = session.get(User, current_user.id)
    if user is None:
        abort(403)
    return user
