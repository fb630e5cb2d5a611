"""Registers every blueprint, the error pages and the template helpers."""

from __future__ import annotations

from flask import Flask

from mailer.web import errors, filters


def init_app(app: Flask) -> None:
    from contacts.admin_views import audience_bp, contacts_bp, lists_bp, suppressions_bp, types_bp
    from contacts.public_views import public_bp as subscriptions_bp
    from mailer.accounts.api_key_views import api_keys_bp
    from mailer.accounts.second_factors.passkey_views import passkeys_bp
    from mailer.accounts.second_factors.second_factor_views import second_factor_bp
    from mailer.accounts.second_factors.totp_views import totp_bp
    from mailer.accounts.security_views import security_bp
    from mailer.accounts.sso.oidc_views import oidc_bp
    from mailer.accounts.user_security_views import user_security_bp
    from mailer.accounts.views import account_bp, auth_bp, users_bp
    from mailer.admin.dashboard import admin_bp
    from mailer.audit.views import audit_bp
    from mailer.bounces.views import bounces_bp
    from mailer.bounces.webhook_views import webhooks_bp
    from mailer.bulletins.public_views import documents_bp
    from mailer.bulletins.views import bulletins_bp
    from mailer.delivery.public_views import web_versions_bp
    from mailer.delivery.views import outbox_bp, sends_bp
    from mailer.email_templates.views import email_templates_bp
    from mailer.events.views import webhook_admin_bp
    from mailer.organisation.views import organisation_bp
    from mailer.tracking.admin_views import reports_bp
    from mailer.tracking.completion_views import completion_bp
    from mailer.tracking.public_views import public_bp as consultation_public_bp
    from mailer.tracking.send_report_views import send_reports_bp
    from mailer.tracking.subscribe_views import subscribe_bp
    from mailer.web.health import health_bp
    from scheduler.bulletin_send_views import bulletin_sends_bp
    from scheduler.consultation_views import consultations_bp
    from scheduler.reviews.views import notices_bp, reviews_bp
    from scheduler.sending_views import sending_bp

    # Every admin blueprint lives under /admin/, where the sign-in guard
    # (mailer.admin.init_app) covers it: a new admin page cannot forget to require it.
    for blueprint in (
        admin_bp,
        contacts_bp,
        lists_bp,
        audience_bp,
        suppressions_bp,
        bounces_bp,
        types_bp,
        users_bp,
        user_security_bp,
        account_bp,
        security_bp,
        totp_bp,
        audit_bp,
        organisation_bp,
        bulletins_bp,
        email_templates_bp,
        sends_bp,
        outbox_bp,
        consultations_bp,
        bulletin_sends_bp,
        sending_bp,
        reviews_bp,
        reports_bp,
        send_reports_bp,
        api_keys_bp,
        webhook_admin_bp,
    ):
        app.register_blueprint(blueprint)
    app.register_blueprint(auth_bp)
    # Sign-in steps before anyone is signed in (the passkey routes are both: sign-in
    # under /login/, managing one's passkeys under /admin/, where the guard covers them).
    app.register_blueprint(second_factor_bp)
    app.register_blueprint(passkeys_bp)
    app.register_blueprint(oidc_bp)
    app.register_blueprint(subscriptions_bp)
    app.register_blueprint(documents_bp)
    app.register_blueprint(consultation_public_bp)
    app.register_blueprint(completion_bp)
    app.register_blueprint(web_versions_bp)
    app.register_blueprint(subscribe_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(notices_bp)
    app.register_blueprint(webhooks_bp)

    filters.init_app(app)
    errors.init_app(app)
