from __future__ import annotations

from flask import current_app, render_template
from flask_login import current_user

from mailer.admin import admin_bp
from mailer.audit import service as audit_service
from mailer.audit.actions import LABELS as ACTION_LABELS
from mailer.database import get_db


@admin_bp.get("/")
def dashboard():  # type: ignore[no-untyped-def]
    db = get_db()
    config = current_app.config["MAILER"]
    recent = audit_service.recent(db.session, limit=8) if current_user.can_read_audit else []
    system = {
        "Database": "SQLite (embedded)" if db.is_sqlite else "PostgreSQL",
        "Mail transport": (
            "Outbox (saved to files, nothing leaves this machine)"
            if config.mail.transport == "outbox"
            else f"SMTP via {config.smtp.host}:{config.smtp.port}"
        ),
        "Sender": config.mail.from_address,
        "Time zone": config.app.timezone,
        "Two-person approval": "on" if config.approval.two_person else "off",
        "Configuration": config.source,
    }
    return render_template(
        "admin/dashboard.html", recent=recent, system=system, action_labels=ACTION_LABELS
    )
