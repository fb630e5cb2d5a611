"""Admin pages for the sending controls: the stop switch, blackouts, and the scheduler's
state."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from mailer.accounts.models import User
from mailer.accounts.roles import Action
from mailer.admin.guards import acting_user, requires
from mailer.config import Config
from mailer.database import get_db, utcnow
from mailer.delivery import switch
from scheduler import blackouts, forms, status
from scheduler.models import Blackout

sending_bp = Blueprint("sending", __name__, url_prefix="/admin/sending")


def _config() -> Config:
    return current_app.config["MAILER"]


@sending_bp.get("/")
def controls() -> ResponseReturnValue:
    session = get_db().session
    now = utcnow()
    current = switch.current(session)
    return render_template(
        "admin/sending.html",
        switch=current,
        stopped_by=session.get(User, current.changed_by_id) if current.changed_by_id else None,
        scheduler=status.read(session, now=now),
        blackouts=session.scalars(select(Blackout).order_by(Blackout.starts_at)).all(),
        now=now,
        zone=_config().app.timezone,
    )


@sending_bp.post("/stop")
def stop() -> ResponseReturnValue:
    db = get_db()
    try:
        with db.transaction(db.session) as session:
            switch.stop(
                session,
                by=acting_user(session),
                reason=request.form.get("reason", ""),
                now=utcnow(),
            )
    except switch.SwitchRefused as exc:
        flash(str(exc), "error")
    else:
        flash("All sending is stopped. Nothing goes until someone resumes it.", "success")
    return redirect(url_for("sending.controls"))


@sending_bp.post("/resume")
def resume() -> ResponseReturnValue:
    db = get_db()
    try:
        with db.transaction(db.session) as session:
            switch.resume(session, by=acting_user(session), now=utcnow())
    except switch.SwitchRefused as exc:
        flash(str(exc), "error")
    else:
        flash(
            "Sending resumed. Anything due while it was stopped goes now if it is within "
            "the grace time; later ones are marked missed on their timeline.",
            "success",
        )
    return redirect(url_for("sending.controls"))


@sending_bp.post("/blackouts")
@requires(Action.ADD_BLACKOUT)
def add_blackout() -> ResponseReturnValue:
    starts, ends, unreadable = forms.blackout_times(request.form, zone=_config().app.tz)
    db = get_db()
    try:
        with db.transaction(db.session) as session:
            _, moved = blackouts.add(
                session,
                starts=starts,
                ends=ends,
                reason=request.form.get("reason", ""),
                by=acting_user(session),
                config=_config(),
                now=utcnow(),
                unreadable=unreadable,
            )
    except blackouts.BlackoutInvalid as exc:
        for message in exc.errors.values():
            flash(message, "error")
        return redirect(url_for("sending.controls"))
    flash(f"Blackout added. {moved} planned message(s) moved out of it.", "success")
    return redirect(url_for("sending.controls"))


@sending_bp.post("/blackouts/<int:blackout_id>/remove")
@requires(Action.REMOVE_BLACKOUT)
def remove_blackout(blackout_id: int) -> ResponseReturnValue:
    db = get_db()
    with db.transaction(db.session) as session:
        blackout = session.get(Blackout, blackout_id)
        if blackout is None:
            abort(404)
        moved = blackouts.remove(
            session, blackout, by=acting_user(session), config=_config(), now=utcnow()
        )
    flash(f"Blackout removed. {moved} planned message(s) moved back.", "success")
    return redirect(url_for("sending.controls"))
