"""The saved audiences pages, on the audience blueprint: every saved audience with how
many it reaches now, making one with the builder, changing and deleting one.

Everyone signed in may look (an approver checks who a send goes to); editors and
admins save, change and delete.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from contacts import audience as audiences
from contacts import segments
from contacts.admin_views.audience import (
    audience_bp,
    builder_context,
    form_problem,
    is_round_trip,
    parse_form,
)
from contacts.audience import Audience
from contacts.models import Segment
from mailer.admin.guards import acting_user, requires
from mailer.database import get_db, utcnow

NAME_FIELD = "segment_name"
NEXT_FIELD = "audience_next"


def _rows(session: Session) -> list[tuple[Segment, str, int]]:
    """Each saved audience, in words, with how many it reaches now."""
    rows = []
    for segment in segments.all_segments(session):
        found = segments.audience_of(segment)
        rows.append(
            (segment, audiences.describe(session, found), audiences.count_reachable(session, found))
        )
    return rows


def _index(
    audience: Audience, *, name: str = "", error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    session = get_db().session
    return render_template(
        "admin/audience/segments.html",
        rows=_rows(session),
        builder=builder_context(session, audience, offer_save=False),
        name=name,
        error=error,
    ), status


@audience_bp.get("/segments")
def segments_index() -> ResponseReturnValue:
    return _index(parse_form(request.args, session=get_db().session))


def _safe_next(form: MultiDict[str, str]) -> str | None:
    """Where to go after saving from another page's builder: an admin path of ours."""
    target = (form.get(NEXT_FIELD) or "").strip()
    if target.startswith("/admin/") and "//" not in target and "\\" not in target:
        return target
    return None


@audience_bp.post("/segments")
@requires("can_edit")
def segments_save() -> ResponseReturnValue:
    """Save the builder's audience with a name: from this page, or from the
    "Save this audience as..." button of any page's builder."""
    db = get_db()
    form = request.form
    name = form.get(NAME_FIELD, "")
    problem = form_problem(db.session, form)
    if problem:
        return _index(Audience(), name=name, error=problem, status=400)
    audience = parse_form(form, session=db.session)
    if is_round_trip(form):
        return _index(audience, name=name)
    try:
        with db.transaction(db.session) as session:
            saved = segments.save(
                session, name=name, audience=audience, by=acting_user(session), now=utcnow()
            )
            saved_id, saved_name = saved.id, saved.name
    except segments.SegmentRefused as exc:
        return _index(audience, name=name, error=str(exc), status=400)
    flash(f'Saved the audience "{saved_name}".', "success")
    target = _safe_next(form)
    if target:
        return redirect(f"{target}?segment_id={saved_id}")
    return redirect(url_for("audience.segments_index"))


def _edit_page(
    segment: Segment, audience: Audience, *, name: str, error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "admin/audience/segment.html",
        segment=segment,
        builder=builder_context(get_db().session, audience, offer_save=False),
        name=name,
        error=error,
    ), status


@audience_bp.get("/segments/<int:segment_id>")
def segments_show(segment_id: int) -> ResponseReturnValue:
    segment = segments.get(get_db().session, segment_id) or abort(404)
    return _edit_page(segment, segments.audience_of(segment), name=segment.name)


@audience_bp.post("/segments/<int:segment_id>")
@requires("can_edit")
def segments_change(segment_id: int) -> ResponseReturnValue:
    db = get_db()
    form = request.form
    segment = segments.get(db.session, segment_id) or abort(404)
    name = form.get(NAME_FIELD, "")
    problem = form_problem(db.session, form)
    if problem:
        return _edit_page(
            segment, segments.audience_of(segment), name=name, error=problem, status=400
        )
    # This page's builder always shows the segment's own choices: a segment_id here
    # means "start from that other saved audience", only with its button.
    audience = parse_form(form, session=db.session if is_round_trip(form) else None)
    if is_round_trip(form):
        return _edit_page(segment, audience, name=name)
    try:
        with db.transaction(db.session) as session:
            by, now = acting_user(session), utcnow()
            segments.rename(session, segment, name=name, by=by, now=now)
            segments.update(session, segment, audience=audience, by=by, now=now)
    except segments.SegmentRefused as exc:
        return _edit_page(segment, audience, name=name, error=str(exc), status=400)
    flash(f'Saved the changes to "{segment.name}".', "success")
    return redirect(url_for("audience.segments_index"))


@audience_bp.post("/segments/<int:segment_id>/delete")
@requires("can_edit")
def segments_delete(segment_id: int) -> ResponseReturnValue:
    db = get_db()
    with db.transaction(db.session) as session:
        segment = segments.get(session, segment_id) or abort(404)
        name = segment.name
        segments.delete(session, segment, by=acting_user(session))
    flash(
        f'Deleted the saved audience "{name}". Sends already made keep their audience.', "success"
    )
    return redirect(url_for("audience.segments_index"))
