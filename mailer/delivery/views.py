"""Admin pages for delivery: running sends (progress, pause, resume, cancel, failures,
retry, CSV) and the outbox shown like a mail catcher."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select

from contacts.exporting import neutralise
from mailer.accounts.roles import Action
from mailer.admin.guards import acting_user, client_ip, requires
from mailer.bounces import rates
from mailer.database import get_db, utcnow
from mailer.delivery import OUTBOX_FOLDER, controls, outbox_reader, sends, web_versions
from mailer.delivery.models import BOUNCED, FAILED, SEND_LABELS, SENT, Delivery, Send
from mailer.public_urls import PublicUrls
from mailer.web import paging
from mailer.web.frames import email_frame
from scheduler import late_joiners
from scheduler.consultations import planning

sends_bp = Blueprint("sends", __name__, url_prefix="/admin/sends")
outbox_bp = Blueprint("outbox", __name__, url_prefix="/admin/outbox")

FAILURES_SHOWN = 200
# The failures list: refused or given up on, and handed over but bounced later.
NOT_DELIVERED = (FAILED, BOUNCED)


def _send(send_id: int) -> Send:
    send = get_db().session.get(Send, send_id)
    if send is None:
        abort(404)
    return send


def _status(send: Send) -> dict[str, object]:
    session = get_db().session
    counts = sends.progress(session, send.id)
    minute_ago = utcnow() - timedelta(minutes=1)
    per_minute = session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.send_id == send.id, Delivery.state == SENT, Delivery.sent_at > minute_ago)
    )
    return {
        "state": send.state,
        "state_label": SEND_LABELS.get(send.state, send.state),
        "queued": counts.queued,
        "sending": counts.sending,
        "sent": counts.sent,
        "failed": counts.failed,
        "skipped": counts.skipped,
        # Handed over, then a bounce came back: not delivered after all.
        "bounced": counts.bounced,
        "complaints": rates.complaints_by_send(session, [send.id]).get(send.id, 0),
        "total": counts.total,
        "per_minute": per_minute or 0,
        "paused_reason": send.paused_reason,
    }


@sends_bp.get("/")
def index() -> ResponseReturnValue:
    session = get_db().session
    rows = session.scalars(
        select(Send).order_by(Send.due_at.desc().nulls_last(), Send.id.desc()).limit(200)
    ).all()
    return render_template(
        "admin/sends/index.html",
        sends=[(s, sends.progress(session, s.id)) for s in rows],
        labels=SEND_LABELS,
    )


@sends_bp.get("/<int:send_id>")
def show(send_id: int) -> ResponseReturnValue:
    send = _send(send_id)
    failures = (
        get_db()
        .session.scalars(
            select(Delivery)
            .where(Delivery.send_id == send.id, Delivery.state.in_(NOT_DELIVERED))
            .order_by(Delivery.id)
            .limit(FAILURES_SHOWN)
        )
        .all()
    )
    return render_template(
        "admin/sends/show.html",
        send=send,
        status=_status(send),
        failures=failures,
        failures_shown=FAILURES_SHOWN,
        may_control=lambda control: controls.may(current_user, send, control),
        why_not=lambda control: controls.refusal(current_user, send, control),
        web_version=_web_version(send),
        publish_refusal=web_versions.publish_refusal(send),
        waiting=_late_joiners_waiting(send),
    )


def _late_joiners_waiting(send: Send) -> late_joiners.Waiting | None:
    """People who joined a launch's audience after it went, held back (quiet hours)."""
    if not send.consultation_id or send.fired_at is None:
        return None
    session = get_db().session
    rules = planning.rules_for(session, current_app.config["MAILER"])
    return late_joiners.waiting_on(session, send, rules=rules, now=utcnow())


def _web_version(send: Send) -> str | None:
    """The send's web version address, once it has one anybody can open."""
    if not web_versions.visible(send):
        return None
    return PublicUrls(current_app.config["MAILER"].app.base_url).web_version(str(send.web_token))


@sends_bp.post("/<int:send_id>/<any(publish, unpublish):action>")
@requires(Action.PUBLISH_SEND)
def publishing(send_id: int, action: str) -> ResponseReturnValue:
    """Put a sent message in the public archive (/bulletins), or take it off."""
    db = get_db()
    try:
        with db.transaction(db.session) as session:
            send = _send(send_id)
            if action == "publish":
                message = web_versions.publish(
                    session, send, by=acting_user(session), now=utcnow(), ip=client_ip()
                )
            else:
                message = web_versions.unpublish(
                    session, send, by=acting_user(session), ip=client_ip()
                )
    except web_versions.PublishRefused as exc:
        flash(str(exc), "error")
    else:
        flash(message, "success")
    return redirect(url_for("sends.show", send_id=send_id))


@sends_bp.get("/<int:send_id>/status.json")
def status(send_id: int) -> ResponseReturnValue:
    return jsonify(_status(_send(send_id)))


@sends_bp.post("/<int:send_id>/<any(pause, resume, cancel, retry):action>")
def control(send_id: int, action: str) -> ResponseReturnValue:
    db = get_db()
    try:
        with db.transaction(db.session) as session:
            send = _send(send_id)
            done = controls.apply(
                session, send, action, by=acting_user(session), now=utcnow(), ip=client_ip()
            )
    except sends.SendRefused as exc:
        flash(str(exc), "error")
    else:
        flash(done.message, "success")
    return redirect(url_for("sends.show", send_id=send_id))


@sends_bp.get("/<int:send_id>/failures.csv")
def failures_csv(send_id: int) -> ResponseReturnValue:
    send = _send(send_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["address", "attempts", "reply", "hard_bounce", "state"])
    for row in get_db().session.scalars(
        select(Delivery)
        .where(Delivery.send_id == send.id, Delivery.state.in_(NOT_DELIVERED))
        .order_by(Delivery.id)
    ):
        writer.writerow(
            [
                neutralise(row.address),
                row.attempts,
                neutralise(row.last_reply),
                row.hard_bounce,
                row.state,
            ]
        )
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=send-{send.id}-failures.csv"},
    )


# --- the outbox ------------------------------------------------------------------------


def _folder() -> Path:
    return current_app.config["MAILER"].instance_path / OUTBOX_FOLDER


def _message(name: str) -> tuple[bytes, EmailMessage]:
    try:
        return outbox_reader.read(_folder(), name)
    except FileNotFoundError:
        abort(404)


@outbox_bp.get("/")
def outbox_index() -> ResponseReturnValue:
    entries, total = outbox_reader.listing(_folder(), page=paging.page_number())
    page = paging.within(paging.page_number(), total, outbox_reader.PER_PAGE)
    return render_template(
        "admin/mail_catcher/index.html",
        entries=entries,
        total=total,
        page=page,
        pages=max((total + outbox_reader.PER_PAGE - 1) // outbox_reader.PER_PAGE, 1),
        transport=current_app.config["MAILER"].mail.transport,
    )


@outbox_bp.get("/<name>")
def outbox_show(name: str) -> ResponseReturnValue:
    view = request.args.get("view", "html")
    data, message = _message(name)
    html, text, attachments = outbox_reader.parts(message)
    return render_template(
        "admin/mail_catcher/show.html",
        name=name,
        message=message,
        view=view if view in ("html", "text", "source") else "html",
        text=text,
        source=data[: 512 * 1024].decode("utf-8", "replace"),
        attachments=attachments,
        has_html=bool(html),
    )


@outbox_bp.get("/<name>/frame.html")
def outbox_frame(name: str) -> ResponseReturnValue:
    _data, message = _message(name)
    html, _text, _attachments = outbox_reader.parts(message)
    return email_frame(html or "<p>This message has no HTML part.</p>")


@outbox_bp.get("/<name>/download")
def outbox_download(name: str) -> ResponseReturnValue:
    data, _parsed = _message(name)
    return Response(
        data,
        mimetype="message/rfc822",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
