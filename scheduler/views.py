"""Admin pages for consultations: list, calendar, create and edit, the timeline (as a
picture and a table), documents, submit and approve, send a missed send now, cancel,
the statutory evidence report; and the sending controls (stop switch, blackouts,
scheduler state)."""

from __future__ import annotations

import calendar as calendar_module
import contextlib
import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
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
from sqlalchemy import select

from contacts.exporting import neutralise
from contacts.models import ContactList, OrganisationType
from mailer import audit
from mailer.accounts.models import User
from mailer.accounts.roles import Action
from mailer.admin.guards import acting_user, requires
from mailer.audit import actions
from mailer.bulletins import files
from mailer.config import Config, format_duration, parse_duration
from mailer.database import get_db, utcnow
from mailer.delivery import sends, switch
from mailer.delivery.models import SEND_LABELS, Send
from scheduler import approval, evidence, status, statutory
from scheduler.consultations import documents, editing, lifecycle, planning, read_models
from scheduler.consultations.details import (
    ConsultationInvalid,
    ConsultationRefused,
    Details,
    NeedsConfirmation,
)
from scheduler.models import (
    AWAITING_APPROVAL,
    STATE_LABELS,
    TYPE_GENERAL,
    TYPE_LABELS,
    Blackout,
    Consultation,
)
from scheduler.rules import Blackout as BlackoutRule
from scheduler.timeline import DEFAULT_REMINDERS, ReminderSpec

consultations_bp = Blueprint("consultations", __name__, url_prefix="/admin/consultations")
sending_bp = Blueprint("sending", __name__, url_prefix="/admin/sending")


def _config() -> Config:
    return current_app.config["MAILER"]


def _consultation(consultation_id: int) -> Consultation:
    found = get_db().session.get(Consultation, consultation_id)
    if found is None:
        abort(404)
    return found


def _rules(session: Any) -> Any:
    return planning.rules_for(session, _config())


# --- the list and the calendar ----------------------------------------------------------


@consultations_bp.get("/")
def index() -> ResponseReturnValue:
    session = get_db().session
    now = utcnow()
    rows = session.scalars(select(Consultation).order_by(Consultation.opens_at.desc())).all()
    upcoming = {}
    for item in rows:
        upcoming[item.id] = session.scalar(
            select(Send)
            .where(Send.consultation_id == item.id, Send.state == "scheduled")
            .order_by(Send.due_at)
            .limit(1)
        )
    return render_template(
        "admin/consultations/index.html",
        consultations=rows,
        upcoming=upcoming,
        now=now,
        state_labels=STATE_LABELS,
        type_labels=TYPE_LABELS,
    )


@consultations_bp.get("/calendar")
def calendar() -> ResponseReturnValue:
    zone = _config().app.tz
    today = utcnow().astimezone(zone).date()
    try:
        year, month = (int(p) for p in request.args.get("month", "").split("-"))
        first = date(year, month, 1)
    except ValueError:
        first = today.replace(day=1)
    last = first.replace(day=calendar_module.monthrange(first.year, first.month)[1])
    start = datetime.combine(first, time(0), zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), zone).astimezone(UTC)
    session = get_db().session
    events: dict[date, list[dict[str, Any]]] = {}
    for send in session.scalars(
        select(Send)
        .where(Send.consultation_id.is_not(None), Send.due_at >= start, Send.due_at < end)
        .order_by(Send.due_at)
    ):
        day = send.due_at.astimezone(zone).date()
        events.setdefault(day, []).append({"send": send, "label": send.label})
    shown = session.scalars(
        select(Consultation)
        .where(Consultation.opens_at < end, Consultation.closes_at >= start)
        .order_by(Consultation.opens_at)
    ).all()
    for item in shown:
        for moment, what in ((item.opens_at, "opens"), (item.closes_at, "closes")):
            day = moment.astimezone(zone).date()
            if first <= day <= last:
                events.setdefault(day, []).append({"consultation": item, "label": what})
    weeks = calendar_module.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    previous = (first - timedelta(days=1)).replace(day=1)
    following = last + timedelta(days=1)
    return render_template(
        "admin/consultations/calendar.html",
        first=first,
        weeks=weeks,
        events=events,
        consultations=shown,
        today=today,
        previous=previous,
        following=following,
        zone=zone,
        send_labels=SEND_LABELS,
    )


# --- create and edit --------------------------------------------------------------------

REMINDER_CHOICES = [(spec.slot, spec.label()) for spec in DEFAULT_REMINDERS]


def _parse_local(day: str, clock: str, *, field: str, errors: dict[str, str]) -> datetime | None:
    zone = _config().app.tz
    try:
        return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock or "00:00"), zone)
    except ValueError:
        errors[field] = "Give a date (and time) such as 14/03/2027 09:00."
        return None


def _details_from_form() -> tuple[Details | None, dict[str, str], dict[str, Any]]:
    """What the form says, the problems found before the service looks, and the raw
    values to show again."""
    form = request.form
    errors: dict[str, str] = {}
    raw = {
        "title": form.get("title", ""),
        "summary": form.get("summary", ""),
        "type": form.get("type", TYPE_GENERAL),
        "opens_date": form.get("opens_date", ""),
        "opens_time": form.get("opens_time", "09:00"),
        "closes_date": form.get("closes_date", ""),
        "closes_time": form.get("closes_time", "23:59"),
        "survey_url": form.get("survey_url", ""),
        "lists": [int(v) for v in form.getlist("lists") if v.isdigit()],
        "organisation_types": [int(v) for v in form.getlist("organisation_types") if v.isdigit()],
        "reminder_defaults": form.getlist("reminder_defaults"),
        "reminders_extra": form.get("reminders_extra", ""),
        "close_notice_after": form.get("close_notice_after", ""),
        "late_joiners": form.get("late_joiners") == "on",
        "skip_responders": form.get("skip_responders") == "on",
        "launch_body": form.get("launch_body", ""),
    }
    opens = _parse_local(raw["opens_date"], raw["opens_time"], field="opens_at", errors=errors)
    closes = _parse_local(raw["closes_date"], raw["closes_time"], field="closes_at", errors=errors)
    reminders = [s for s in DEFAULT_REMINDERS if s.slot in raw["reminder_defaults"]]
    for text in raw["reminders_extra"].replace(";", ",").split(","):
        if text.strip():
            try:
                reminders.append(ReminderSpec(parse_duration(text.strip())))
            except ValueError:
                errors["reminders"] = (
                    f"{text.strip()!r} is not a time before the close; write 3d, 36h or 90m."
                )
    notice = None
    if raw["close_notice_after"].strip():
        try:
            notice = parse_duration(raw["close_notice_after"].strip())
        except ValueError:
            errors["close_notice_after"] = "Write a time after the close such as 2d or 12h."
    if not raw["lists"] and not raw["organisation_types"]:
        errors["lists"] = "Choose at least one list or organisation type to send to."
    if errors or opens is None or closes is None:
        return None, errors, raw
    details = Details(
        title=raw["title"],
        opens_at=opens,
        closes_at=closes,
        survey_url=raw["survey_url"],
        summary=raw["summary"],
        type=raw["type"],
        lists=tuple(raw["lists"]),
        organisation_types=tuple(raw["organisation_types"]),
        reminders=tuple(reminders),
        close_notice_after=notice,
        late_joiners=raw["late_joiners"],
        skip_responders=raw["skip_responders"],
        launch_body=raw["launch_body"],
    )
    return details, errors, raw


def _raw_from(consultation: Consultation | None) -> dict[str, Any]:
    zone = _config().app.tz
    if consultation is None:
        start = (utcnow().astimezone(zone) + timedelta(days=7)).date()
        return {
            "title": "",
            "summary": "",
            "type": TYPE_GENERAL,
            "opens_date": start.isoformat(),
            "opens_time": "09:00",
            "closes_date": (start + timedelta(days=42)).isoformat(),
            "closes_time": "23:59",
            "survey_url": "",
            "lists": [],
            "organisation_types": [],
            "reminder_defaults": [s.slot for s in DEFAULT_REMINDERS],
            "reminders_extra": "",
            "close_notice_after": "",
            "late_joiners": True,
            "skip_responders": False,
            "launch_body": "",
        }
    specs = planning.reminder_specs(consultation)
    opens = consultation.opens_at.astimezone(zone)
    closes = consultation.closes_at.astimezone(zone)
    after = consultation.close_notice_after
    return {
        "title": consultation.title,
        "summary": consultation.summary,
        "type": consultation.type,
        "opens_date": opens.date().isoformat(),
        "opens_time": opens.strftime("%H:%M"),
        "closes_date": closes.date().isoformat(),
        "closes_time": closes.strftime("%H:%M"),
        "survey_url": consultation.survey_url,
        "lists": list(consultation.audience.get("lists", [])),
        "organisation_types": list(consultation.audience.get("organisation_types", [])),
        "reminder_defaults": [s.slot for s in specs if s.morning],
        "reminders_extra": ", ".join(format_duration(s.before) for s in specs if not s.morning),
        "close_notice_after": "" if after is None else format_duration(timedelta(seconds=after)),
        "late_joiners": consultation.late_joiners,
        "skip_responders": consultation.skip_responders,
        "launch_body": "",
    }


def _form_page(
    consultation: Consultation | None,
    raw: dict[str, Any],
    errors: dict[str, str],
    *,
    confirm: str = "",
    status_code: int = 200,
) -> ResponseReturnValue:
    session = get_db().session
    return render_template(
        "admin/consultations/form.html",
        consultation=consultation,
        raw=raw,
        errors=errors,
        confirm=confirm,
        lists=session.scalars(select(ContactList).order_by(ContactList.name)).all(),
        types=session.scalars(select(OrganisationType).order_by(OrganisationType.position)).all(),
        type_labels=TYPE_LABELS,
        reminder_choices=REMINDER_CHOICES,
        zone=_config().app.timezone,
        per_person=_config().tracking.per_person,
    ), status_code


@consultations_bp.route("/new", methods=["GET", "POST"])
@requires("can_edit")
def new() -> ResponseReturnValue:
    if request.method == "GET":
        return _form_page(None, _raw_from(None), {})
    details, errors, raw = _details_from_form()
    if details is None:
        return _form_page(None, raw, errors, status_code=400)
    db = get_db()
    try:
        with db.transaction(db.session) as session:
            created, warnings = editing.create(
                session, details, by=acting_user(session), rules=_rules(session), now=utcnow()
            )
    except ConsultationInvalid as exc:
        return _form_page(None, raw, exc.errors, status_code=400)
    for warning in warnings:
        flash(warning, "warning")
    flash(
        "Consultation created as a draft. Check its timeline, attach the documents and "
        "edit each message, then submit it for approval.",
        "success",
    )
    return redirect(url_for("consultations.show", consultation_id=created.id))


@consultations_bp.route("/<int:consultation_id>/edit", methods=["GET", "POST"])
@requires("can_edit")
def edit(consultation_id: int) -> ResponseReturnValue:
    consultation = _consultation(consultation_id)
    if request.method == "GET":
        return _form_page(consultation, _raw_from(consultation), {})
    details, errors, raw = _details_from_form()
    if details is None:
        return _form_page(consultation, raw, errors, status_code=400)
    db = get_db()
    was = consultation.state
    try:
        with db.transaction(db.session) as session:
            warnings = editing.update(
                session,
                consultation,
                details,
                by=acting_user(session),
                rules=_rules(session),
                now=utcnow(),
                confirmed=request.form.get("confirmed") == "yes",
            )
    except NeedsConfirmation as exc:
        return _form_page(consultation, raw, {}, confirm=str(exc), status_code=409)
    except ConsultationInvalid as exc:
        return _form_page(consultation, raw, exc.errors, status_code=400)
    except ConsultationRefused as exc:
        flash(str(exc), "error")
        return redirect(url_for("consultations.show", consultation_id=consultation_id))
    for warning in warnings:
        flash(warning, "warning")
    flash("Saved. The timeline below shows where each message now goes.", "success")
    if was != consultation.state:
        flash(
            f"It was {STATE_LABELS[was].lower()}, so this change returned it to draft: "
            "submit it again when it is ready, and it needs a new approval.",
            "warning",
        )
    return redirect(url_for("consultations.show", consultation_id=consultation_id))


# --- one consultation -------------------------------------------------------------------


@consultations_bp.get("/<int:consultation_id>")
def show(consultation_id: int) -> ResponseReturnValue:
    consultation = _consultation(consultation_id)
    session = get_db().session
    now = utcnow()
    stored = planning.timeline(session, consultation)
    dropped = []
    # A timeline the rules can no longer make (TimelineError) shows the stored one only.
    with contextlib.suppress(ValueError):
        dropped = [p for p in planning.planned(consultation, _rules(session)) if p.dropped]
    rows = [(send, sends.progress(session, send.id)) for send in stored]
    lists = session.scalars(
        select(ContactList).where(ContactList.id.in_(consultation.audience.get("lists", [])))
    ).all()
    types = session.scalars(
        select(OrganisationType).where(
            OrganisationType.id.in_(consultation.audience.get("organisation_types", []))
        )
    ).all()
    two_person = _config().approval.two_person
    # The version an approver reads here is the one the approve form names.
    authors = approval.authors(session, consultation)
    refused = approval.refusal(authors, current_user) if two_person else None
    version = None
    if consultation.state == AWAITING_APPROVAL:
        version = read_models.version(session, consultation, base_url=_config().app.base_url)
    return render_template(
        "admin/consultations/show.html",
        consultation=consultation,
        phase=consultation.phase(now),
        rows=rows,
        dropped=dropped,
        picture=_picture(consultation, stored, now),
        lists=lists,
        types=types,
        recipients=read_models.recipients(session, consultation),
        checks=read_models.checks(session, consultation),
        coverage=statutory.coverage(session, consultation),
        state_labels=STATE_LABELS,
        type_labels=TYPE_LABELS,
        send_labels=SEND_LABELS,
        may_approve=current_user.can_approve and refused is None,
        # Open now and Send now move approved mail: not for its own authors.
        may_move=current_user.can_approve
        and not (
            two_person and current_user.id in approval.approved_authors(session, consultation)
        ),
        two_person=two_person,
        refused=refused,
        authors=authors,
        version=version,
        short_version=approval.short(version),
        approved_version=approval.short(consultation.approved_hash),
        page_url=read_models.page_url(consultation, _config().app.base_url),
        now=now,
    )


def _picture(consultation: Consultation, stored: list[Send], now: datetime) -> dict[str, Any]:
    """Positions (0-100 %) on a time axis for the timeline picture."""
    moments = [consultation.opens_at, consultation.closes_at] + [
        s.due_at for s in stored if s.due_at is not None
    ]
    start, end = min(moments), max(moments)
    margin = max((end - start) * 0.04, timedelta(hours=1))
    start, end = start - margin, end + margin
    span = (end - start).total_seconds()

    def at(moment: datetime) -> float:
        return round(100 * (moment - start).total_seconds() / span, 2)

    zone = _config().app.tz
    return {
        "open_from": at(consultation.opens_at),
        "open_to": at(consultation.closes_at),
        "now": at(now) if start <= now <= end else None,
        "marks": [
            {
                "x": at(s.due_at),
                "kind": s.kind,
                "label": s.label,
                "state": s.state,
                "when": s.due_at.astimezone(zone).strftime("%a %-d %b %H:%M"),
                "row": n % 2,
            }
            for n, s in enumerate(stored)
            if s.due_at is not None
        ],
        "opens": consultation.opens_at.astimezone(zone).strftime("%a %-d %b %H:%M"),
        "closes": consultation.closes_at.astimezone(zone).strftime("%a %-d %b %H:%M"),
    }


def _step(
    consultation_id: int, work: Any, success: str | Callable[[Any], str]
) -> ResponseReturnValue:
    """Run one state change in the request's transaction; flash its outcome (``success``
    may be worked out from the session once the change is made)."""
    db = get_db()
    consultation = _consultation(consultation_id)
    try:
        with db.transaction(db.session) as session:
            result = work(session, consultation, acting_user(session))
            said = success(session) if callable(success) else success
    except (ConsultationRefused, files.FileRefused, LookupError) as exc:
        flash(str(exc), "error")
    else:
        for warning in result if isinstance(result, list) else []:
            flash(warning, "warning")
        flash(said, "success")
    return redirect(url_for("consultations.show", consultation_id=consultation_id))


@consultations_bp.post("/<int:consultation_id>/submit")
@requires("can_edit")
def submit(consultation_id: int) -> ResponseReturnValue:
    return _step(
        consultation_id,
        lambda s, c, u: lifecycle.submit(s, c, by=u, now=utcnow()),
        "Submitted. An approver will see it on their dashboard.",
    )


@consultations_bp.post("/<int:consultation_id>/approve")
@requires("can_approve")
def approve(consultation_id: int) -> ResponseReturnValue:
    config = _config()
    return _step(
        consultation_id,
        lambda s, c, u: lifecycle.approve(
            s,
            c,
            by=u,
            two_person=config.approval.two_person,
            base_url=config.app.base_url,
            now=utcnow(),
            # A form without it names no version: refused, like a stale one.
            seen=request.form.get("version", "").strip(),
            via=approval.VIA_ADMIN,
        ),
        "Approved. Each message goes at the time the timeline shows.",
    )


@consultations_bp.post("/<int:consultation_id>/open-now")
@requires(Action.OPEN_NOW)
def open_now(consultation_id: int) -> ResponseReturnValue:
    def said(session: Any) -> str:
        return "Open now: the launch " + _goes_soon(session)

    return _step(
        consultation_id,
        lambda s, c, u: lifecycle.open_now(
            s, c, by=u, now=utcnow(), two_person=_config().approval.two_person
        ),
        said,
    )


@consultations_bp.post("/<int:consultation_id>/return")
@requires("can_edit")
def return_to_draft(consultation_id: int) -> ResponseReturnValue:
    return _step(
        consultation_id,
        lambda s, c, u: lifecycle.return_to_draft(s, c, by=u, now=utcnow()),
        "Returned to draft: nothing more goes out until it is approved again.",
    )


@consultations_bp.post("/<int:consultation_id>/cancel")
@requires("can_edit")
def cancel(consultation_id: int) -> ResponseReturnValue:
    return _step(
        consultation_id,
        lambda s, c, u: lifecycle.cancel(s, c, by=u, now=utcnow()),
        "Cancelled: nothing more will be sent for this consultation.",
    )


@consultations_bp.post("/<int:consultation_id>/documents")
@requires("can_edit")
def add_document(consultation_id: int) -> ResponseReturnValue:
    upload = request.files.get("document")
    if upload is None or not upload.filename:
        flash("Choose a file to attach.", "error")
        return redirect(url_for("consultations.show", consultation_id=consultation_id))
    config = _config()
    data = upload.read()
    return _step(
        consultation_id,
        lambda s, c, u: (
            documents.add_document(
                s,
                c,
                filename=upload.filename or "",
                data=data,
                title=request.form.get("title", ""),
                alternative_url=request.form.get("alternative_url", ""),
                folder=files.folder_for(config),
                limit_bytes=config.mail.max_attachments_mb * 1024 * 1024,
                by=u,
            )
            and []
        ),
        "Document attached.",
    )


@consultations_bp.post("/<int:consultation_id>/documents/<int:document_id>/remove")
@requires("can_edit")
def remove_document(consultation_id: int, document_id: int) -> ResponseReturnValue:
    return _step(
        consultation_id,
        lambda s, c, u: documents.remove_document(s, c, document_id, by=u) and [],
        "Document removed.",
    )


@consultations_bp.post("/<int:consultation_id>/sends/<int:send_id>/send-now")
@requires(Action.SEND_MISSED_NOW)
def send_now(consultation_id: int, send_id: int) -> ResponseReturnValue:
    def work(session: Any, consultation: Consultation, user: Any) -> list[str]:
        send = session.get(Send, send_id)
        if send is None or send.consultation_id != consultation.id:
            raise LookupError("That send is not on this consultation's timeline.")
        lifecycle.send_now(
            session, send, by=user, now=utcnow(), two_person=_config().approval.two_person
        )
        return []

    return _step(consultation_id, work, lambda session: "It " + _goes_soon(session))


def _goes_soon(session: Any) -> str:
    """When a message made due now goes: the stop switch holds every send."""
    if switch.is_stopped(session):
        return "waits: all sending is stopped, and it goes once sending restarts."
    return "goes within a few seconds."


# --- the evidence report ----------------------------------------------------------------


@consultations_bp.get("/<int:consultation_id>/evidence")
def evidence_report(consultation_id: int) -> ResponseReturnValue:
    consultation = _consultation(consultation_id)
    session = get_db().session
    return render_template(
        "admin/consultations/evidence.html",
        consultation=consultation,
        report=evidence.report(session, consultation),
        type_labels=TYPE_LABELS,
        now=utcnow(),
    )


@consultations_bp.get("/<int:consultation_id>/evidence.csv")
def evidence_csv(consultation_id: int) -> ResponseReturnValue:
    consultation = _consultation(consultation_id)
    db = get_db()
    # It names the people of the required audiences: every copy is on the record, as a
    # contacts export is.
    with db.transaction(db.session) as session:
        audit.record(
            session,
            actions.CONSULTATION_EVIDENCE_EXPORTED,
            actor=acting_user(session),
            target_type="consultation",
            target_id=consultation.id,
            summary=f'Downloaded the evidence report of "{consultation.title}" as CSV',
        )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(evidence.CSV_HEADER)
    for row in evidence.csv_rows(get_db().session, consultation):
        writer.writerow([neutralise(str(value)) for value in row])
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": (f'attachment; filename="evidence-{consultation.slug}.csv"')
        },
    )


# --- sending controls: stop switch, blackouts, scheduler state --------------------------


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
    form = request.form
    errors: dict[str, str] = {}
    starts = _parse_local(
        form.get("starts_date", ""), form.get("starts_time", "00:00"), field="starts", errors=errors
    )
    ends = _parse_local(
        form.get("ends_date", ""), form.get("ends_time", "00:00"), field="ends", errors=errors
    )
    reason = " ".join(form.get("reason", "").split())[:200]
    if not reason:
        errors["reason"] = "Say why nothing may be sent (a pre-election period, say)."
    if not errors and starts and ends:
        try:
            BlackoutRule(starts, ends, reason)
        except ValueError as exc:
            errors["ends"] = str(exc)
    if errors:
        for message in errors.values():
            flash(message, "error")
        return redirect(url_for("sending.controls"))
    db = get_db()
    with db.transaction(db.session) as session:
        user = acting_user(session)
        blackout = Blackout(
            starts_at=starts.astimezone(UTC),  # type: ignore[union-attr]
            ends_at=ends.astimezone(UTC),  # type: ignore[union-attr]
            reason=reason,
            created_by_id=user.id,
        )
        session.add(blackout)
        session.flush()
        moved = _replan_all(session)
        audit.record(
            session,
            actions.BLACKOUT_ADDED,
            actor=user,
            target_type="blackout",
            target_id=blackout.id,
            summary=f"Blackout added: {reason} ({moved} planned send(s) moved)",
        )
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
        reason = blackout.reason
        session.delete(blackout)
        session.flush()
        moved = _replan_all(session)
        audit.record(
            session,
            actions.BLACKOUT_REMOVED,
            actor=acting_user(session),
            target_type="blackout",
            target_id=blackout_id,
            summary=f"Blackout removed: {reason} ({moved} planned send(s) moved)",
        )
    flash(f"Blackout removed. {moved} planned message(s) moved back.", "success")
    return redirect(url_for("sending.controls"))


def _replan_all(session: Any) -> int:
    rules = _rules(session)
    by = acting_user(session)
    moved = 0
    for consultation in session.scalars(
        select(Consultation).where(Consultation.closes_at > utcnow() - timedelta(days=30))
    ):
        moved += lifecycle.replan(session, consultation, rules=rules, by=by)
    return moved
