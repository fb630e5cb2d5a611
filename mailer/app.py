"""The application factory (the flaskr pattern: one function, each part's init_app)."""

from __future__ import annotations

import logging

from flask import Flask

from mailer import logs, models, paths
from mailer.config import Config, load_config
from mailer.database import Database
from mailer.instance import ensure_instance_dir, secret_key

log = logging.getLogger(__name__)


def create_app(config: Config | None = None) -> Flask:
    """Build the web app. ``config`` defaults to the file the contract says to read."""
    config = config or load_config()
    models.register_all()
    logs.install()
    app = Flask(
        "mailer",
        template_folder=str(paths.page_templates_dir()),
        static_folder=str(paths.static_dir()),
        instance_path=str(ensure_instance_dir(config)),
    )
    app.config.update(
        MAILER=config,
        SECRET_KEY=secret_key(config),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.app.is_https,
        SESSION_COOKIE_NAME="mailer_session",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=config.app.is_https,
        # The cookie is a browser-session cookie; the server ends sessions itself
        # ([auth] session_idle and session_max, mailer/accounts/sessions.py).
        PERMANENT_SESSION_LIFETIME=config.auth.session_max,
        WTF_CSRF_TIME_LIMIT=None,  # tied to the session, which expires on its own
        MAX_CONTENT_LENGTH=config.max_request_bytes,
        PREFERRED_URL_SCHEME="https" if config.app.is_https else "http",
    )

    Database(config.database_url).init_app(app)

    from mailer import admin, api, personal_data, web
    from mailer.web import inputs, security

    admin.init_app(app)  # the sign-in guard goes first (see its docstring)
    # Then the input check (before CSRF reads the form, and before any route exists:
    # it also bounds <int:...>), so nothing unchecked reaches a view or the database.
    inputs.init_app(app)
    security.init_app(app)
    web.init_app(app)
    api.init_app(app)
    personal_data.init_app(app)
    from mailer.web import proxies

    # Around everything: the visitor's address is settled before any code reads it.
    proxies.init_app(app)
    return app
