"""Admin routes for a bulletin's attachments: attach, remove, download. They join
the bulletins blueprint (``register``), so their addresses sit under
/admin/bulletins/ with the rest; ``file_response`` also serves the public documents."""

from __future__ import annotations

from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user

from mailer.admin.guards import acting_user, requires
from mailer.bulletins import files, typed_views
from mailer.bulletins.models import Bulletin
from mailer.database import get_db, utcnow
from mailer.web import errors, inputs, section_notes
from scheduler import edits
from scheduler.consultations import read_models

SECTION = "documents"


def notes_key(bulletin_id: int) -> str:
    """This bulletin's Documents section, for section_notes (never another's)."""
    return f"bulletin-{bulletin_id}-{SECTION}"


def limit_bytes() -> int:
    return int(current_app.config["MAILER"].mail.max_attachments_mb) * 1024 * 1024


def _bulletin(bulletin_id: int) -> Bulletin:
    bulletin = get_db().session.get(Bulletin, bulletin_id)
    if bulletin is None:
        abort(404)
    return bulletin


@requires("can_edit")
def add_attachment(bulletin_id: int) -> ResponseReturnValue:
    """Attach a document. The Attach button posts the compose form's words too: they are
    saved first (typed_views.save_first), so a preheader typed before Attach stays.
    What happens is said in the Documents section, where the page lands."""
    bulletin = _bulletin(bulletin_id)
    target = url_for("bulletins.edit", bulletin_id=bulletin.id, _anchor=SECTION)
    if read_models.owner_of(get_db().session, bulletin.id) is not None:
        flash("This message carries its consultation's documents; attach them there.", "error")
        return redirect(url_for("bulletins.edit", bulletin_id=bulletin.id))
    # Kept before anything is shown, so a refused attachment's title is not lost.
    section_notes.keep(notes_key(bulletin.id), {"title": request.form.get("title", "")})
    stopped = typed_views.save_first(
        bulletin, section=notes_key(bulletin.id), action="Not attached"
    )
    if stopped is not None:
        return stopped
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _refused(bulletin, target, "Choose a file to attach.")
    size = errors.upload_size(upload)
    if size > limit_bytes():
        return _refused(bulletin, target, errors.too_large(size, limit_bytes()))
    data = upload.read(limit_bytes() + 1)
    db = get_db()
    try:
        with db.transaction(db.session) as session:
            user = acting_user(session)
            # Documents are part of what a send of it approves (scheduler/edits.py).
            edits.before_message_edit(session, bulletin)
            attachment = files.attach(
                session,
                bulletin,
                filename=upload.filename,
                data=data,
                title=request.form.get("title", ""),
                folder=files.folder_for(current_app.config["MAILER"]),
                limit_bytes=limit_bytes(),
                by=user,
            )
            name = attachment.filename
            returned = edits.message_changed(
                session, bulletin, changed=["attachments"], by=user, now=utcnow()
            )
    except (files.FileRefused, edits.MessageLocked) as exc:
        return _refused(bulletin, target, str(exc))
    section_notes.kept_for(notes_key(bulletin.id))  # attached: the title box starts empty again
    section_notes.note(notes_key(bulletin.id), f"Attached {name}.")
    if returned:
        section_notes.note(notes_key(bulletin.id), returned, category="warning")
    return redirect(target, 303)


def _refused(bulletin: Bulletin, target: str, why: str) -> ResponseReturnValue:
    section_notes.note(notes_key(bulletin.id), f"Not attached: {why}", category="error")
    return redirect(target, 303)


def too_large_answer(size: int) -> ResponseReturnValue | None:
    """The answer to an Attach whose request was over the server's limit (HTTP 413,
    mailer/web/errors.py): the edit page, with the words as typed (not saved: the
    request was not checked) and the limit stated in the Documents section."""
    from mailer.bulletins import views

    bulletin = get_db().session.get(Bulletin, (request.view_args or {}).get("bulletin_id", 0))
    if bulletin is None or not current_user.can_edit:
        return None
    section_notes.keep(notes_key(bulletin.id), {"title": request.form.get("title", "")})
    section_notes.note(
        notes_key(bulletin.id),
        f"Not attached: {errors.too_large(size, limit_bytes())}",
        category="error",
    )
    typed = "subject" in request.form
    return views.edit_page(
        bulletin,
        draft=views.typed_draft(bulletin) if typed else views.stored_draft(bulletin),
        errors={},
        about_id=(
            inputs.id_arg("consultation_id", request.form) if typed else bulletin.consultation_id
        ),
        status=413,
        unsaved=typed and typed_views.words_differ(bulletin, views.typed_draft(bulletin)),
    )


@requires("can_edit")
def remove_attachment(bulletin_id: int, attachment_id: int) -> ResponseReturnValue:
    bulletin = _bulletin(bulletin_id)
    db = get_db()
    target = url_for("bulletins.edit", bulletin_id=bulletin.id) + "#documents"
    try:
        with db.transaction(db.session) as session:
            user = acting_user(session)
            edits.before_message_edit(session, bulletin)
            name = files.detach(session, bulletin, attachment_id, by=user)
            returned = edits.message_changed(
                session, bulletin, changed=["attachments"], by=user, now=utcnow()
            )
    except LookupError:
        abort(404)
    except edits.MessageLocked as exc:
        flash(str(exc), "error")
        return redirect(target)
    flash(f"Removed {name}.", "success")
    if returned:
        flash(returned, "warning")
    return redirect(target)


def attachment(bulletin_id: int, attachment_id: int) -> ResponseReturnValue:
    bulletin = _bulletin(bulletin_id)
    found = next((a for a in bulletin.attachments if a.id == attachment_id), None)
    if found is None:
        abort(404)
    return file_response(found.file.sha256, found.filename, found.file.content_type)


def file_response(sha256: str, filename: str, content_type: str) -> Response:
    try:
        data = files.read(files.folder_for(current_app.config["MAILER"]), sha256)
    except FileNotFoundError:
        abort(410)
    disposition = (
        "inline"
        if content_type in ("application/pdf", "image/png", "image/jpeg", "image/gif")
        else "attachment"
    )
    response = Response(data, mimetype=content_type)
    response.headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(filename)}"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def register(bp: Blueprint) -> None:
    """Add these routes to the bulletins blueprint."""
    bp.post("/<int:bulletin_id>/attachments")(add_attachment)
    bp.post("/<int:bulletin_id>/attachments/<int:attachment_id>/remove")(remove_attachment)
    bp.get("/<int:bulletin_id>/attachments/<int:attachment_id>")(attachment)
    errors.on_too_large(f"{bp.name}.add_attachment", too_large_answer)
    section_notes.register(bp)
