"""The dashboard: a comms officer's first questions, answered at a glance."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from contacts.models import UNSUBSCRIBED, Contact
from mailer.audit import service as audit_service
from mailer.audit.actions import LABELS as ACTION_LABELS
from mailer.bounces import rates
from mailer.database import get_db, utcnow
from mailer.delivery import sends, switch
from mailer.delivery.models import (
    FAILED,
    SEND_AWAITING_APPROVAL,
    SEND_DONE,
    SEND_MISSED,
    SEND_PAUSED,
    SEND_SCHEDULED,
    SEND_SENDING,
    Delivery,
    Send,
)
from mailer.email_templates import office_mail
from mailer.organisation import service as organisation
from scheduler import status
from scheduler.models import AWAITING_APPROVAL, SCHEDULED, Consultation
from scheduler.reviews import sent_back

# The sends whose bounce and complaint rates the dashboard shows: the latest that went.
RECENT_SENDS = 8
RECENT_DAYS = 30

# The dashboard is the page at /admin/ itself; every other admin blueprint has its own
# prefix below it.
admin_bp = Blueprint("admin", __name__, url_prefix="/admin")


@admin_bp.get("/")
def dashboard() -> ResponseReturnValue:
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
        # Who messages come from now (the office's name and chosen address), not the
        # configured default that the office's settings override.
        "Sender": office_mail.sender(config, organisation.get(db.session).snapshot()).header(),
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
    # Bulletins sent on their own wait as sends, not as consultations.
    waiting_sends = session.scalars(
        select(Send)
        .where(Send.state == SEND_AWAITING_APPROVAL, Send.bulletin_id.is_not(None))
        .order_by(Send.submitted_at)
    ).all()
    upcoming = session.scalars(
        select(Send)
        .where(Send.state.in_((SEND_SCHEDULED, SEND_MISSED)))
        .order_by(Send.due_at.nulls_first())
        .limit(5)
    ).all()
    now = utcnow()
    sending = [
        (send, sends.progress(session, send.id))
        for send in session.scalars(
            select(Send).where(Send.state.in_((SEND_SENDING, SEND_PAUSED))).order_by(Send.fired_at)
        )
    ]
    open_now = session.scalars(
        select(Consultation)
        .where(
            Consultation.state == SCHEDULED,
            Consultation.opens_at <= now,
            Consultation.closes_at > now,
        )
        .order_by(Consultation.closes_at)
    ).all()
    failures = session.execute(
        select(Delivery.address, Delivery.last_reply, Delivery.send_id, Send.title)
        .join(Send, Send.id == Delivery.send_id)
        .where(Delivery.state == FAILED)
        .order_by(Delivery.id.desc())
        .limit(5)
    ).all()
    recent_sends = session.scalars(
        select(Send)
        .where(
            Send.state.in_((SEND_SENDING, SEND_PAUSED, SEND_DONE)),
            Send.fired_at > now - timedelta(days=RECENT_DAYS),
        )
        .order_by(Send.fired_at.desc())
        .limit(RECENT_SENDS)
    ).all()
    # One query per table for all of them, not one per send.
    send_rates = rates.by_send(session, [send.id for send in recent_sends])
    unsubscribes = session.scalars(
        select(Contact)
        .where(Contact.status == UNSUBSCRIBED, Contact.unsubscribed_at.is_not(None))
        .order_by(Contact.unsubscribed_at.desc())
        .limit(5)
    ).all()
    return render_template(
        "admin/dashboard.html",
        sending=sending,
        open_now=open_now,
        failures=failures,
        recent_sends=[(send, send_rates[send.id]) for send in recent_sends],
        percent=rates.percent,
        complaint_limit=rates.limit(rates.COMPLAINT_LIMIT),
        bounce_limit=rates.limit(rates.BOUNCE_LIMIT),
        unsubscribes=unsubscribes,
        now=now,
        recent=recent,
        system=system,
        action_labels=ACTION_LABELS,
        waiting=waiting,
        waiting_sends=waiting_sends,
        # What an approver sent back to this writer, with the comment.
        sent_back=sent_back.waiting_for(session, user_id=current_user.id)
        if current_user.can_edit
        else [],
        upcoming=upcoming,
        stopped=switch.is_stopped(session),
        scheduler=status.read(session, now=now),
    )
