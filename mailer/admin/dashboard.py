from __future__ import annotations

from flask import current_app, render_template
from flask_login import current_user
from sqlalchemy import select

from mailer.admin import admin_bp
from mailer.audit import service as audit_service
from mailer.audit.actions import LABELS as ACTION_LABELS
from mailer.database import get_db, utcnow
from mailer.delivery import switch
from mailer.delivery.models import SEND_MISSED, SEND_SCHEDULED, Send
from scheduler import status
from scheduler.models import AWAITING_APPROVAL, Consultation


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
    session = db.session
    waiting = session.scalars(
        select(Consultation)
        .where(Consultation.state == AWAITING_APPROVAL)
        .order_by(Consultation.opens_at)
    ).all()
    upcoming = session.scalars(
        select(Send)
        .where(Send.consultation_id.is_not(None), Send.state.in_((SEND_SCHEDULED, SEND_MISSED)))
        .order_by(Send.due_at)
        .limit(5)
    ).all()
    return render_template(
        "admin/dashboard.html",
        recent=recent,
        system=system,
        action_labels=ACTION_LABELS,
        waiting=waiting,
        upcoming=upcoming,
        stopped=switch.is_stopped(session),
        scheduler=status.read(session, now=utcnow()),
    )
