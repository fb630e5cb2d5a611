"""Registers every blueprint, the error pages and the template helpers."""

from __future__ import annotations

from flask import Flask

from mailer.web import errors, filters


def init_app(app: Flask) -> None:
    from mailer.accounts.views import account_bp, auth_bp, users_bp
    from mailer.admin import admin_bp
    from mailer.audit.views import audit_bp
    from mailer.web.health import health_bp

    # Nested under /admin/ so the admin guard (a before_request on admin_bp) covers
    # them: a new admin page cannot forget to require login.
    admin_bp.register_blueprint(users_bp)
    admin_bp.register_blueprint(account_bp)
    admin_bp.register_blueprint(audit_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(health_bp)

    filters.init_app(app)
    errors.init_app(app)
