"""Admin pages for reusing bulletins: the bulletins list with its filters, copy,
archive, unarchive and delete, and a consultation's timeline message taking the words
of a bulletin already written. The routes join the bulletins blueprint
(``register``), so their addresses sit under /admin/bulletins/ with the rest."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from mailer.admin.guards import acting_user, requires
from mailer.bulletins.models import Bulletin
from mailer.database import get_db, utcnow
from mailer.email_templates.models import KIND_LABELS, KINDS
from mailer.web import inputs, paging
from scheduler import edits
from scheduler.bulletin_sends import listing, reuse
from scheduler.consultations import about, read_models
from scheduler.consultations.details import ConsultationRefused


def _bulletin(bulletin_id: int) -> Bulletin:
    bulletin = get_db().session.get(Bulletin, bulletin_id)
    if bulletin is None:
        abort(404)
    return bulletin


def _edit_page(bulletin_id: int) -> ResponseReturnValue:
    return redirect(url_for("bulletins.edit", bulletin_id=bulletin_id) + "#reuse")


def context(session: Session, bulletin: Bulletin) -> dict[str, Any]:
    """What the edit page's Reuse section shows."""
    facts = reuse.sends_of(session, bulletin.id)
    copied_from = (
        session.get(Bulletin, bulletin.copied_from_id) if bulletin.copied_from_id else None
    )
    return {
        "archived_at": bulletin.archived_at,
        "in_progress": facts.in_progress,
        "delete_refused": reuse.delete_refusal(session, bulletin),
        "copied_from": copied_from,
    }


def index() -> ResponseReturnValue:
    """Every bulletin with its status, consultation, audience and how it went; the
    filters are a plain GET form, so they work without JavaScript."""
    session = get_db().session
    args = request.args
    kind = args.get("kind", "")
    if kind and kind not in KINDS:
        abort(400)
    consultation_id = None
    if args.get("consultation"):
        consultation_id = inputs.id_arg("consultation")
        if consultation_id is None:
            abort(400)
    try:
        filters = listing.Filters(
            status=args.get("status", ""),
            kind=kind,
            consultation_id=consultation_id,
            text=args.get("q", "")[:200],
            include_archived=args.get("archived") == "on",
        )
    except listing.FilterRefused:
        abort(400)
    return render_template(
        "admin/bulletins/index.html",
        found=listing.listing(session, filters, page=paging.page_number()),
        filters=filters,
        args={k: v for k, v in args.items() if k != "page"},
        statuses=listing.STATUS_LABELS,
        consultations=listing.consultations(session),
        kind_labels=KIND_LABELS,
        kinds=KINDS,
    )


@requires("can_edit")
def copy(bulletin_id: int) -> ResponseReturnValue:
    bulletin = _bulletin(bulletin_id)
    db = get_db()
    with db.transaction(db.session) as session:
        copied = reuse.copy(session, bulletin, by=acting_user(session), now=utcnow())
    flash(
        f'This is a new draft copied from "{bulletin.subject}", with its documents. '
        "Change what you need, preview it and send it.",
        "success",
    )
    return redirect(url_for("bulletins.edit", bulletin_id=copied.id))


@requires("can_edit")
def archive(bulletin_id: int) -> ResponseReturnValue:
    bulletin = _bulletin(bulletin_id)
    db = get_db()
    try:
        with db.transaction(db.session) as session:
            reuse.archive(session, bulletin, by=acting_user(session), now=utcnow())
    except reuse.ReuseRefused as exc:
        flash(f"Not archived. {exc}", "error")
        return _edit_page(bulletin.id)
    flash("Archived: it is out of the bulletins list, with its sends and reports kept.", "success")
    return _edit_page(bulletin.id)


@requires("can_edit")
def unarchive(bulletin_id: int) -> ResponseReturnValue:
    bulletin = _bulletin(bulletin_id)
    db = get_db()
    with db.transaction(db.session) as session:
        reuse.unarchive(session, bulletin, by=acting_user(session))
    flash("Back in the bulletins list.", "success")
    return _edit_page(bulletin.id)


@requires("can_edit")
def delete(bulletin_id: int) -> ResponseReturnValue:
    """GET asks to confirm; POST deletes."""
    bulletin = _bulletin(bulletin_id)
    db = get_db()
    refused = reuse.delete_refusal(db.session, bulletin)
    if refused is not None:
        flash(f"Not deleted. {refused}", "error")
        return _edit_page(bulletin.id)
    if request.method == "GET":
        return render_template("admin/bulletins/delete.html", bulletin=bulletin)
    try:
        with db.transaction(db.session) as session:
            subject = reuse.delete(session, bulletin, by=acting_user(session), now=utcnow())
    except reuse.ReuseRefused as exc:
        flash(f"Not deleted. {exc}", "error")
        return _edit_page(bulletin_id)
    flash(f'Deleted the draft "{subject}".', "success")
    return redirect(url_for("bulletins.index"))


@requires("can_edit")
def use_words(bulletin_id: int) -> ResponseReturnValue:
    """Give a timeline message (``bulletin_id``) the words of another bulletin."""
    session = get_db().session
    owner = read_models.owner_of(session, bulletin_id)
    if owner is None:
        abort(404)
    send, consultation = owner
    target = url_for("consultations.show", consultation_id=consultation.id) + "#timeline-heading"
    source_id = inputs.id_arg("source_id", request.form)
    source = session.get(Bulletin, source_id) if source_id else None
    if source is None:
        flash("Choose the bulletin whose words to use.", "error")
        return redirect(target), 400
    db = get_db()
    try:
        with db.transaction(db.session) as s:
            returned = about.use_words(
                s, consultation, send, source, by=acting_user(s), now=utcnow()
            )
    except (about.AboutRefused, edits.MessageLocked, ConsultationRefused) as exc:
        flash(str(exc), "error")
        return redirect(target)
    flash(f'The {send.label.lower()} message now has the words of "{source.subject}".', "success")
    if returned:
        flash(returned, "warning")
    return redirect(target)


def register(bp: Blueprint) -> None:
    """Add these routes to the bulletins blueprint."""
    bp.add_url_rule("/", view_func=index, methods=["GET"])
    bp.add_url_rule("/<int:bulletin_id>/copy", view_func=copy, methods=["POST"])
    bp.add_url_rule("/<int:bulletin_id>/archive", view_func=archive, methods=["POST"])
    bp.add_url_rule("/<int:bulletin_id>/unarchive", view_func=unarchive, methods=["POST"])
    bp.add_url_rule("/<int:bulletin_id>/delete", view_func=delete, methods=["GET", "POST"])
    bp.add_url_rule("/<int:bulletin_id>/use-words", view_func=use_words, methods=["POST"])
