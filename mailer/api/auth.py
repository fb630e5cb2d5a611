"""Who is calling: the API key in ``Authorization: Bearer <key>``, and its scopes.

Every API view is wrapped in :func:`requires`, which answers 401 without a usable key
and 403 when the key lacks the scope; the OpenAPI document shows the scope beside
each operation. No cookie is read or set: a browser's admin session opens nothing
here, and the API is exempt from CSRF for that reason only.

Once the key is known, the request is counted against its rate limit
(``rate_limits``), its body must be JSON (``bodies``), and a POST goes through
``idempotency`` (Idempotency-Key).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from flask import g, request
from flask_smorest import Blueprint

from mailer.accounts import api_keys
from mailer.api import bodies, idempotency, rate_limits
from mailer.api.problems import ApiProblem
from mailer.database import get_db
from mailer.web.security import clock

log = logging.getLogger(__name__)

SCHEME = "bearerAuth"
# last_used_at is written at most this often per key (a write per request would
# make every read a write).
LAST_USED_EVERY = timedelta(minutes=1)

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Caller:
    """The key a request came with, detached from any database session."""

    key_id: int
    name: str
    scopes: frozenset[str]

    @property
    def actor_label(self) -> str:
        """Who the audit log says acted: the key's name."""
        return f"API key {self.name!r}"


def current() -> Caller:
    """The caller of the request being answered (inside a view wrapped by requires)."""
    caller = g.get("api_caller")
    if not isinstance(caller, Caller):
        raise RuntimeError("api.auth.current() outside a view wrapped by requires()")
    return caller


def requires(scope: str) -> Callable[[F], F]:
    """Answer only a request whose key has ``scope``."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            g.api_caller = authenticate(scope)
            return _answer(view, args, kwargs)

        documented = Blueprint.doc(security=[{SCHEME: [scope]}])(wrapper)
        documented._api_scope = scope
        return cast(F, documented)

    return decorate


def public(view: F) -> F:
    """Answer without a key: public information only (the open consultations).
    Marked so the scope tests and the reference know it is meant."""
    view._api_public = True  # type: ignore[attr-defined]
    return cast(F, Blueprint.doc(security=[])(view))


def requires_any_key(view: F) -> F:
    """Answer any request with a usable key, whatever its scopes."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.api_caller = authenticate(None)
        return _answer(view, args, kwargs)

    return cast(F, Blueprint.doc(security=[{SCHEME: []}])(wrapper))


def _answer(view: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    """Run the view, once its body is known to be readable JSON; a creating request
    (POST) through Idempotency-Key's replay."""
    bodies.check()
    if request.method == "POST":
        return idempotency.answer(current().key_id, lambda: view(*args, **kwargs))
    return view(*args, **kwargs)


def authenticate(scope: str | None) -> Caller:
    now = clock()
    raw = _bearer()
    if raw is None:
        raise ApiProblem(
            401,
            "Send an API key: Authorization: Bearer <key>.",
            headers={"WWW-Authenticate": 'Bearer realm="api"'},
        )
    # A session of its own, before the view opens the request's: on SQLite a writing
    # request's session holds the write lock, which the touch below would wait for.
    session = get_db().new_session()
    try:
        key = api_keys.find(session, raw, now=now)
        if key is None:
            raise ApiProblem(
                401,
                "This API key is not valid: it is wrong, revoked or expired.",
                headers={"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'},
            )
        caller = Caller(key_id=key.id, name=key.name, scopes=api_keys.scopes_of(key))
        stale = key.last_used_at is None or now - key.last_used_at >= LAST_USED_EVERY
    finally:
        session.close()
    # Counted once the key is known, before its scope is: a key probing what it may
    # do spends its allowance too.
    rate_limits.check(caller.key_id)
    if scope is not None and scope not in caller.scopes:
        raise ApiProblem(
            403,
            f"This API key may not do this: it needs the scope {scope!r}.",
            headers={
                "WWW-Authenticate": f'Bearer realm="api", error="insufficient_scope", '
                f'scope="{scope}"'
            },
        )
    if stale:
        _touch(caller.key_id, now)
    return caller


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _touch(key_id: int, now: datetime) -> None:
    from mailer.accounts.models import ApiKey

    with get_db().writing() as session:
        key = session.get(ApiKey, key_id)
        if key is not None:
            key.last_used_at = now
