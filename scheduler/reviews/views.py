"""Pages of the review conversation: sending a consultation or a bulletin's send back
with a comment, the work the submit and approve buttons do besides moving the state
(events, notices, the confirmation), and what was sent back where the writer works
(template globals for a bulletin's edit page and the list). Turning notices off, on
My account and by a notice's own link, is in notice_views.py."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.orm import Session

from contacts import tokens as link_tokens
from mailer.accounts import roles
from mailer.accounts.models import User
from mailer.admin.guards import acting_user
from mailer.bulletins.models import Bulletin
from mailer.config import Config
from mailer.database import get_db, utcnow
from mailer.delivery.models import Send
from scheduler.bulletin_sends import approval as send_approval
from scheduler.bulletin_sends import requests
from scheduler.consultations import lifecycle, planning
from scheduler.consultations.details import ConsultationRefused
from scheduler.models import Consultation
from scheduler.reviews import consultation_reviews, notice_views, notices, send_reviews, sent_back

reviews_bp = Blueprint("reviews", __name__, url_prefix="/admin")

CONFIRM = "yes"
NOT_CONFIRMED = (
    'Nothing was approved: tick "I have read the whole message" to confirm you have '
    "read it, then approve."
)
# The refusal an editor reads at a send-back's address: the roles that may approve
# (roles.Action.APPROVE), saying what they tried rather than "approve".
SEND_BACK_REFUSED = "Only approvers and admins may send it back."
Work = Callable[[Session, Any, User], Any]


def _sends_back(view: Callable[..., Any]) -> Callable[..., Any]:
    """Allow a send-back only to whoever may approve (else 403, saying so)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not roles.may(current_user, roles.Action.APPROVE):
            raise roles.NotAllowed(SEND_BACK_REFUSED)
        return view(*args, **kwargs)

    return wrapped


def _config() -> Config:
    return current_app.config["MAILER"]


def _keys() -> tuple[str, ...]:
    return tuple(link_tokens.secret_keys(current_app.config))


def mailing(endpoint: str, **values: Any) -> notices.Mailing:
    """What a notice about the page at ``endpoint`` needs."""
    config = _config()
    page = config.app.base_url.rstrip("/") + url_for(endpoint, **values)
    return notices.Mailing(config=config, secret_keys=_keys(), page_url=page)


def mailing_in(app: Flask, endpoint: str, **values: Any) -> notices.Mailing:
    """What a notice needs, outside a request: the command line's submit and approve
    tell people as the buttons do."""
    with app.test_request_context():
        return mailing(endpoint, **values)


def _confirmed() -> bool:
    return request.form.get("confirmed") == CONFIRM


# --- consultations: what submit and approve do, and sending back ----------------------


def submitting_consultation(session: Session, consultation: Consultation, user: User) -> Any:
    now = utcnow()
    warnings = lifecycle.submit(session, consultation, by=user, now=now)
    consultation_reviews.submitted(
        session,
        consultation,
        by=user,
        now=now,
        mailing=mailing("consultations.show", consultation_id=consultation.id),
    )
    return warnings


def approving_consultation() -> Work:
    """The approve button's work: refused unless the approver confirmed they read it,
    or if the version they read (posted back) is no longer the one to approve."""
    config = _config()
    seen = request.form.get("version", "").strip()
    confirmed = _confirmed()

    def work(session: Session, consultation: Consultation, user: User) -> Any:
        if not confirmed:
            raise ConsultationRefused(NOT_CONFIRMED)
        now = utcnow()
        told = consultation_reviews.writers(session, consultation)
        warnings = lifecycle.approve(
            session,
            consultation,
            by=user,
            two_person=config.approval.two_person,
            base_url=config.app.base_url,
            now=now,
            # A form without it names no version: refused, like a stale one.
            seen=seen,
        )
        consultation_reviews.approved(
            session,
            consultation,
            by=user,
            now=now,
            told=told,
            mailing=mailing("consultations.show", consultation_id=consultation.id),
        )
        return warnings

    return work


@reviews_bp.post("/consultations/<int:consultation_id>/send-back")
@_sends_back
def send_back_consultation(consultation_id: int) -> ResponseReturnValue:
    db = get_db()
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None:
        abort(404)
    comment = request.form.get("comment", "")
    try:
        with db.transaction(db.session) as session:
            consultation_reviews.send_back(
                session,
                consultation,
                by=acting_user(session),
                comment=comment,
                now=utcnow(),
                mailing=mailing("consultations.show", consultation_id=consultation_id),
            )
    except ConsultationRefused as exc:
        flash(str(exc), "error")
    else:
        flash("Sent back to draft with your comment. Its writer has been told.", "success")
    return redirect(url_for("consultations.show", consultation_id=consultation_id))


# --- a bulletin's send ---------------------------------------------------------------


def _send_of(bulletin_id: int, send_id: int) -> tuple[Bulletin, Send]:
    session = get_db().session
    bulletin = session.get(Bulletin, bulletin_id)
    send = session.get(Send, send_id)
    if (
        bulletin is None
        or send is None
        or send.bulletin_id != bulletin.id
        or send.consultation_id is not None
    ):
        abort(404)
    return bulletin, send


def _send_page(send: Send) -> notices.Mailing:
    return mailing("bulletin_sends.show", bulletin_id=send.bulletin_id, send_id=send.id)


def send_submitted(session: Session, send: Send, bulletin: Bulletin, user: User) -> None:
    """After requests.request: keep the step and tell the approvers."""
    send_reviews.submitted(
        session,
        send,
        bulletin,
        by=user,
        now=send.submitted_at or utcnow(),
        mailing=_send_page(send),
    )


def approving_send() -> Work:
    config = _config()
    seen = request.form.get("version", "").strip()
    confirmed = _confirmed()

    def work(session: Session, send: Send, user: User) -> Any:
        if not confirmed:
            raise requests.SendRefused(NOT_CONFIRMED)
        bulletin = session.get(Bulletin, send.bulletin_id) if send.bulletin_id else None
        told = send_reviews.writers(session, send, bulletin) if bulletin is not None else set()
        now = utcnow()
        send_approval.approve(
            session,
            send,
            by=user,
            now=now,
            rules=planning.rules_for(session, config),
            version=seen,
            two_person=config.approval.two_person,
            base_url=config.app.base_url,
        )
        send_reviews.approved(session, send, by=user, now=now, told=told, mailing=_send_page(send))

    return work


@reviews_bp.post("/bulletins/<int:bulletin_id>/sends/<int:send_id>/send-back")
@_sends_back
def send_back_send(bulletin_id: int, send_id: int) -> ResponseReturnValue:
    bulletin, send = _send_of(bulletin_id, send_id)
    db = get_db()
    try:
        with db.transaction(db.session) as session:
            send_reviews.send_back(
                session,
                send,
                bulletin,
                by=acting_user(session),
                comment=request.form.get("comment", ""),
                now=utcnow(),
                mailing=_send_page(send),
            )
    except requests.SendRefused as exc:
        flash(str(exc), "error")
    else:
        flash("Sent back to draft with your comment. Its writer has been told.", "success")
    return redirect(url_for("bulletin_sends.show", bulletin_id=bulletin_id, send_id=send_id))


# --- what was sent back, where the writer works ----------------------------------------


@reviews_bp.app_template_global("bulletin_sent_back")
def bulletin_sent_back(bulletin_id: int) -> sent_back.SentBack | None:
    """The open send-back of a bulletin's send, for the top of its edit page."""
    return sent_back.of_bulletin(get_db().session, bulletin_id)


@reviews_bp.app_template_global("bulletins_sent_back")
def bulletins_sent_back(bulletin_ids: list[int]) -> dict[int, sent_back.SentBack]:
    """The open send-backs of the bulletins a page of the list shows."""
    return sent_back.of_bulletins(get_db().session, bulletin_ids)


# The notices-off page and the My account switch (notice_views.py).
notices_bp = notice_views.notices_bp
notice_views.register(reviews_bp)
