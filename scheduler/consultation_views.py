"""Admin pages for consultations: list, calendar, create and edit, the timeline (as a
picture and a table), documents, submit and approve, send a missed send now, cancel,
the statutory evidence report. The pages read the form and call the services."""

from __future__ import annotations

import calendar as calendar_module
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
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
from sqlalchemy import select, update

from contacts.models import ContactList, OrganisationType
from mailer.accounts.roles import Action
from mailer.admin.guards import acting_user, requires
from mailer.bulletins import files
from mailer.config import Config
from mailer.database import get_db, utcnow
from mailer.delivery import sends, switch
from mailer.delivery.models import SEND_LABELS, Send
from mailer.public_urls import PublicUrls
from mailer.tracking import completions
from mailer.web import filters
from scheduler import approval, document_views, evidence, forms, statutory
from scheduler.consultations import (
    about,
    documents,
    editing,
    lifecycle,
    overview,
    planning,
    read_models,
    versions,
)
from scheduler.consultations.details import (
    ConsultationInvalid,
    ConsultationRefused,
    NeedsConfirmation,
)
from scheduler.models import (
    AWAITING_APPROVAL,
    STATE_LABELS,
    TYPE_LABELS,
    Consultation,
)
from scheduler.reviews import panels
from scheduler.reviews import views as review_views

consultations_bp = Blueprint("consultations", __name__, url_prefix="/admin/consultations")


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
    upcoming = {item.id: overview.next_send(session, item) for item in rows}
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
    shown, events = overview.month(get_db().session, first, last, zone=zone)
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


def _values(consultation: Consultation | None) -> dict[str, Any]:
    return forms.consultation_values(consultation, zone=_config().app.tz, now=utcnow())


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
        errors=forms.in_form_order(errors),
        anchors=forms.FIELD_ANCHORS,
        confirm=confirm,
        lists=session.scalars(select(ContactList).order_by(ContactList.name)).all(),
        types=session.scalars(select(OrganisationType).order_by(OrganisationType.position)).all(),
        type_labels=TYPE_LABELS,
        reminder_choices=forms.REMINDER_CHOICES,
        zone=_config().app.timezone,
        per_person=_config().tracking.per_person,
        # What the edit form was first loaded from, kept through refused saves.
        loaded_at=(
            request.form.get("loaded_at") or versions.version_of(consultation)
            if consultation is not None
            else ""
        ),
    ), status_code


@consultations_bp.route("/new", methods=["GET", "POST"])
@requires("can_edit")
def new() -> ResponseReturnValue:
    if request.method == "GET":
        return _form_page(None, _values(None), {})
    details, raw = forms.consultation_details(request.form, zone=_config().app.tz)
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
        return _form_page(consultation, _values(consultation), {})
    details, raw = forms.consultation_details(request.form, zone=_config().app.tz)
    db = get_db()
    was = consultation.state
    try:
        with db.transaction(db.session) as session:
            # A form opened before someone else's change saves nothing (two tabs).
            versions.check_unchanged(
                session,
                consultation,
                loaded=request.form.get("loaded_at"),
                say_when=filters.when_text,
            )
            warnings = editing.update(
                session,
                consultation,
                details,
                by=acting_user(session),
                rules=_rules(session),
                now=utcnow(),
                confirmed=request.form.get("confirmed") == "yes",
            )
    except versions.ConsultationChanged as exc:
        return _form_page(consultation, raw, {"consultation-form": str(exc)}, status_code=409)
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


@dataclass(frozen=True)
class CompletionAddress:
    """What the consultation page shows for the survey tool's completion redirect."""

    address: str
    total: int
    shared: int


def _completion(consultation: Consultation) -> CompletionAddress:
    """The completion address (its code made the first time it is shown: one update
    that only sets an empty code, so two first views agree) and the responses so far."""
    db = get_db()
    if not consultation.completion_code:
        with db.transaction(db.session) as session:
            session.execute(
                update(Consultation)
                .where(Consultation.id == consultation.id, Consultation.completion_code.is_(None))
                .values(completion_code=completions.new_code())
            )
        db.session.refresh(consultation)
    code = consultation.completion_code or ""
    total, shared = completions.counts(db.session, consultation.id)
    url = PublicUrls(_config().app.base_url).completion(code)
    return CompletionAddress(address=completions.address_for_tools(url), total=total, shared=shared)


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
    limit = _config().mail.max_attachments_mb * 1024 * 1024
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
        picture=overview.picture(consultation, stored, now=now, zone=_config().app.tz),
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
        completion=_completion(consultation),
        now=now,
        word_sources=about.word_sources(session, consultation) if current_user.can_edit else [],
        review=panels.for_consultation(session, consultation, version=version),
        # For the browser's check of a file's size before it is sent (unsaved.js).
        documents_limit=limit,
        documents_room=max(0, limit - sum(d.file.size for d in consultation.documents)),
    )


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
        review_views.submitting_consultation,
        "Submitted. The approvers have been emailed; it is on their dashboard too.",
    )


@consultations_bp.post("/<int:consultation_id>/approve")
@requires("can_approve")
def approve(consultation_id: int) -> ResponseReturnValue:
    return _step(
        consultation_id,
        review_views.approving_consultation(),
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
            s,
            c,
            by=u,
            now=utcnow(),
            two_person=_config().approval.two_person,
            tz=_config().app.tz,
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
            session,
            send,
            by=user,
            now=utcnow(),
            two_person=_config().approval.two_person,
            tz=_config().app.tz,
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
    with db.transaction(db.session) as session:
        evidence.exported(session, consultation, by=acting_user(session))
    return Response(
        evidence.csv_text(get_db().session, consultation),
        mimetype="text/csv",
        headers={
            "Content-Disposition": (f'attachment; filename="evidence-{consultation.slug}.csv"')
        },
    )


document_views.register(consultations_bp)
