"""Admin pages for sending a bulletin on its own: choose the audience and the time and
submit it; the send's page, where an approver approves it (or reads why they may not)
and its submitter withdraws it. Pause, resume and cancel stay on /admin/sends/<id>.
The pages read the form and call scheduler/bulletin_sends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.orm import Session

from contacts import audience as audiences
from contacts.admin_views.audience import builder_context, form_problem, is_round_trip, parse_form
from contacts.audience import Audience
from contacts.models import Segment
from mailer.admin.guards import acting_user, requires
from mailer.bulletins.models import Bulletin
from mailer.config import Config
from mailer.database import get_db, utcnow
from mailer.delivery.models import SEND_AWAITING_APPROVAL, SEND_DRAFT, SEND_LABELS, Send
from scheduler import approval as shared
from scheduler.bulletin_sends import approval, requests
from scheduler.consultations import planning
from scheduler.forms import parse_local
from scheduler.reviews import panels
from scheduler.reviews import views as review_views

bulletin_sends_bp = Blueprint("bulletin_sends", __name__, url_prefix="/admin/bulletins")

AS_SOON = "approved"
AT_TIME = "at"


def _config() -> Config:
    return current_app.config["MAILER"]


def _bulletin(bulletin_id: int) -> Bulletin:
    found = get_db().session.get(Bulletin, bulletin_id)
    if found is None:
        abort(404)
    return found


def _send(bulletin: Bulletin, send_id: int) -> Send:
    found = get_db().session.get(Send, send_id)
    if found is None or found.bulletin_id != bulletin.id or found.consultation_id is not None:
        abort(404)
    return found


@dataclass(frozen=True)
class SendRow:
    """One of a bulletin's sends, as its edit page lists it."""

    send: Send
    state: str
    audience: str


@bulletin_sends_bp.app_template_global("bulletin_sends_for")
def sends_for(bulletin_id: int) -> list[SendRow]:
    """The bulletin's own sends, for the "Send this bulletin" part of its edit page."""
    session = get_db().session
    bulletin = session.get(Bulletin, bulletin_id)
    if bulletin is None:
        return []
    return [
        SendRow(s, SEND_LABELS.get(s.state, s.state), audiences.describe(session, s.audience))
        for s in requests.sends_of(session, bulletin)
    ]


# --- choosing the audience and the time ------------------------------------------------


@dataclass
class Choice:
    """What the send form holds: the audience, and when."""

    audience: Audience
    when: str = AS_SOON
    day: str = ""
    clock: str = ""
    segment_id: int | None = None


def _segment(session: Session, raw: str | None) -> Segment | None:
    if not raw or not raw.strip().isdigit():
        return None
    return session.get(Segment, int(raw))


def _posted_choice() -> tuple[Choice, dict[str, str]]:
    form = request.form
    errors: dict[str, str] = {}
    when = form.get("when", AS_SOON)
    if when not in (AS_SOON, AT_TIME):
        errors["when"] = 'Choose "as soon as approved" or a date and time.'
    choice = Choice(
        audience=parse_form(form, session=get_db().session),
        when=when,
        day=form.get("day", "").strip(),
        clock=form.get("clock", "").strip(),
    )
    return choice, errors


def _asked_time(choice: Choice, errors: dict[str, str]) -> datetime | None:
    if choice.when != AT_TIME:
        if choice.day or choice.clock:
            # A date typed and the default left chosen: ask, rather than drop the date.
            errors["when"] = (
                'You gave a date or time but chose "As soon as it is approved": choose '
                '"At a date and time" to send it then, or clear the date and time.'
            )
        return None
    moment = parse_local(choice.day, choice.clock, zone=_config().app.tz)
    if moment is None or not choice.clock:
        errors["day"] = "Give the date and the time to send it, such as 14/03/2027 and 09:00."
    return moment


def _form_page(
    bulletin: Bulletin, choice: Choice, errors: dict[str, str], status: int
) -> ResponseReturnValue:
    session = get_db().session
    return render_template(
        "admin/bulletin_sends/new.html",
        bulletin=bulletin,
        choice=choice,
        errors=errors,
        builder=builder_context(session, choice.audience, segment_id=choice.segment_id),
        timezone=_config().app.timezone,
        as_soon=AS_SOON,
        at_time=AT_TIME,
    ), status


@bulletin_sends_bp.get("/<int:bulletin_id>/send")
@requires("can_edit")
def new(bulletin_id: int) -> ResponseReturnValue:
    bulletin = _bulletin(bulletin_id)
    # ?segment_id=N: a saved audience to start from (the builder's "Save audience"
    # comes back here with the one just saved).
    session = get_db().session
    problem = form_problem(session, request.args)
    audience = Audience() if problem else parse_form(request.args, session=session)
    segment = _segment(session, request.args.get("segment_id"))
    choice = Choice(audience=audience, segment_id=segment.id if segment else None)
    if again := _draft_send(session, bulletin, request.args.get("again")):
        # Submitting a send withdrawn to draft again: its audience and time to start from.
        choice = _choice_of(again)
    return _form_page(bulletin, choice, {}, 200)


def _draft_send(session: Session, bulletin: Bulletin, raw: str | None) -> Send | None:
    if not raw or not raw.isdigit():
        return None
    found = session.get(Send, int(raw))
    if found is None or found.bulletin_id != bulletin.id or found.state != SEND_DRAFT:
        return None
    return found


def _choice_of(send: Send) -> Choice:
    audience = Audience.from_json(send.audience)
    if send.requested_at is None:
        return Choice(audience=audience)
    local = send.requested_at.astimezone(_config().app.tz)
    return Choice(audience=audience, when=AT_TIME, day=f"{local:%Y-%m-%d}", clock=f"{local:%H:%M}")


@bulletin_sends_bp.post("/<int:bulletin_id>/send")
@requires("can_edit")
def submit(bulletin_id: int) -> ResponseReturnValue:
    bulletin = _bulletin(bulletin_id)
    if problem := form_problem(get_db().session, request.form):
        return _form_page(bulletin, Choice(audience=Audience()), {"send": problem}, 400)
    choice, errors = _posted_choice()
    at = _asked_time(choice, errors)
    if is_round_trip(request.form):
        # The builder's Count or Use it: show the page again, submit nothing.
        return _form_page(bulletin, choice, {}, 200)
    if errors:
        return _form_page(bulletin, choice, errors, 400)
    db = get_db()
    try:
        with db.transaction(db.session) as session:
            send = requests.request(
                session,
                bulletin,
                audience=choice.audience,
                at=at,
                by=acting_user(session),
                now=utcnow(),
                rules=planning.rules_for(session, _config()),
            )
            review_views.send_submitted(session, send, bulletin, acting_user(session))
            send_id = send.id
    except requests.SendRefused as exc:
        return _form_page(bulletin, choice, {"send": str(exc)}, 400)
    flash("Submitted for approval. An approver will read it on this page.", "success")
    return redirect(url_for("bulletin_sends.show", bulletin_id=bulletin.id, send_id=send_id))


# --- one send ---------------------------------------------------------------------------


def _approval_view(session: Session, send: Send, bulletin: Bulletin) -> dict[str, Any]:
    """What an approver reads: the version, who made it, and whether they may approve."""
    if send.state != SEND_AWAITING_APPROVAL:
        return {"version": None, "authors": [], "refused": None, "may_approve": False}
    config = _config()
    found = approval.authors(session, bulletin)
    refused = approval.refusal(found, current_user) if config.approval.two_person else None
    version = approval.content_hash(session, send, bulletin, base_url=config.app.base_url)
    return {
        "version": version,
        "short_version": shared.short(version),
        "authors": found,
        "refused": refused,
        "may_approve": current_user.can_approve and refused is None,
    }


@bulletin_sends_bp.get("/<int:bulletin_id>/sends/<int:send_id>")
def show(bulletin_id: int, send_id: int) -> ResponseReturnValue:
    bulletin = _bulletin(bulletin_id)
    send = _send(bulletin, send_id)
    session = get_db().session
    audience = Audience.from_json(send.audience)
    return render_template(
        "admin/bulletin_sends/show.html",
        bulletin=bulletin,
        send=send,
        state_label=SEND_LABELS.get(send.state, send.state),
        described=audiences.describe(session, audience),
        summary=None if audience.empty else audiences.summarise(session, audience),
        people=panels.send_people(session, send),
        approved_version=shared.short(send.approved_hash),
        two_person=_config().approval.two_person,
        review=panels.for_send(session, send, bulletin),
        **_approval_view(session, send, bulletin),
    )


def _step(bulletin_id: int, send_id: int, work: Any, success: str) -> ResponseReturnValue:
    """One change of the send in the request's transaction; its outcome flashed."""
    bulletin = _bulletin(bulletin_id)
    send = _send(bulletin, send_id)
    db = get_db()
    try:
        with db.transaction(db.session) as session:
            work(session, send, acting_user(session))
    except requests.SendRefused as exc:
        flash(str(exc), "error")
    else:
        flash(success, "success")
    return redirect(url_for("bulletin_sends.show", bulletin_id=bulletin_id, send_id=send_id))


@bulletin_sends_bp.post("/<int:bulletin_id>/sends/<int:send_id>/approve")
@requires("can_approve")
def approve(bulletin_id: int, send_id: int) -> ResponseReturnValue:
    return _step(
        bulletin_id, send_id, review_views.approving_send(), "Approved. It goes at the time shown."
    )


@bulletin_sends_bp.post("/<int:bulletin_id>/sends/<int:send_id>/withdraw")
@requires("can_edit")
def withdraw(bulletin_id: int, send_id: int) -> ResponseReturnValue:
    note = request.form.get("note", "")[:300]
    return _step(
        bulletin_id,
        send_id,
        lambda s, send, user: requests.withdraw(s, send, by=user, note=note),
        "Withdrawn to draft. Nothing will be sent unless it is submitted again.",
    )
