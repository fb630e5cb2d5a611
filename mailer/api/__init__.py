"""The JSON API under /api/v1/: its OpenAPI document, made from the code by
flask-smorest, and the plumbing every resource shares (keys and scopes in ``auth``, rate limits,
Idempotency-Key, problem details, ETags). The resources are in ``resources/``; what
the plumbing adds to each operation's documentation is in ``document``.

Served: ``/api/v1/openapi.json`` (the document) and ``/api/v1/`` (the reference).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Request, Response, request
from flask.sessions import (
    NullSession,
    SecureCookieSession,
    SecureCookieSessionInterface,
    SessionMixin,
)
from flask.typing import ResponseReturnValue
from flask_smorest import Api
from werkzeug.exceptions import HTTPException, InternalServerError

from mailer.api import document, etags, problems, rate_limits
from mailer.web import errors

PREFIX = "/api/v1"
VERSION = "1.0.0"


class MailerApi(Api):
    """flask-smorest's Api, but its errors are problem details and only under /api/:
    the admin and the public pages keep their own error pages (mailer.web.errors)."""

    ERROR_SCHEMA = problems.ProblemSchema

    def _register_error_handlers(self) -> None:
        errors.answer_errors_under(PREFIX, _error_answer)
        self._app.register_error_handler(problems.ApiProblem, problems.from_problem)

    def _openapi_json(self) -> Response:
        """The document as served: see mailer/api/document.py."""
        return Response(json.dumps(self.document(), indent=2), mimetype="application/json")

    def document(self) -> dict[str, Any]:
        base_url = self._app.config["MAILER"].app.base_url
        return document.build(self.spec.to_dict(), base_url=base_url)


def _error_answer(error: Exception) -> ResponseReturnValue:
    if isinstance(error, HTTPException):
        return problems.from_http_exception(error)
    return problems.from_http_exception(InternalServerError())


def init_app(app: Flask) -> None:
    from mailer.api.resources import blueprints
    from mailer.web.security import csrf

    app.config.update(
        API_TITLE="Stakeholder Mailer API",
        API_VERSION=VERSION,
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX=PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
    )
    api = MailerApi(
        app,
        spec_kwargs={
            "info": {
                "description": "Contacts, lists, suppressions, bulletins, sends, "
                "consultations and statistics, for the office's other systems. "
                "Send a key as `Authorization: Bearer <key>`."
            }
        },
    )
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "sm_..."}
    )
    for blueprint in blueprints():
        api.register_blueprint(blueprint)
        # No cookie is read here (auth.py): a forged cross-site request carries none
        # that would count, so there is nothing for a CSRF token to protect.
        csrf.exempt(blueprint)
    app.session_interface = _NoSessionUnderApi()
    rate_limits.init_app(app, app.config["MAILER"].api.rate_limit)
    app.after_request(_conditional)
    app.after_request(_no_cookies)
    from mailer.api import reference_views

    app.register_blueprint(reference_views.bp)


class _NoSessionUnderApi(SecureCookieSessionInterface):
    """Flask's signed-cookie session everywhere but under /api/: there the cookie is not
    even opened (whatever reads ``session`` sees an empty one) and none is saved, so a
    browser's admin session can neither authenticate nor be changed by an API call.
    A subclass, not a wrapper, so everything else the interface offers stays."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if _is_api_path(request.path):
            return NullSession()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if _is_api_path(request.path):
            return
        super().save_session(app, session, response)


def _is_api_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def _under_api() -> bool:
    return _is_api_path(request.path)


def _conditional(response: Response) -> Response:
    """ETags on every JSON answer under /api/v1 (mailer/api/etags.py)."""
    return etags.add_to(response) if _under_api() else response


def _no_cookies(response: Response) -> Response:
    """The API never sets a cookie, even when a browser sends the admin's."""
    if _under_api():
        response.headers.remove("Set-Cookie")
        response.vary.discard("Cookie")
    return response


def spec(app: Flask) -> dict[str, Any]:
    """The OpenAPI document as served."""
    api: MailerApi = app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    return api.document()
