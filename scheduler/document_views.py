"""Attaching a document to a consultation, from its page. The route joins the
consultations blueprint (``register``), at /admin/consultations/<id>/documents.

What happens is said in the page's Documents section, where the page lands
(#documents), and a refused document's title and web-version address stay in the form;
an upload over the request limit comes back there too, with the limit stated."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from mailer.admin.guards import acting_user, requires
from mailer.bulletins import files
from mailer.database import get_db
from mailer.web import section_notes
from mailer.web.errors import on_too_large, too_large, upload_size
from scheduler.consultations import documents
from scheduler.consultations.details import ConsultationRefused
from scheduler.models import Consultation


def notes_key(consultation_id: int) -> str:
    """This consultation's Documents section, for section_notes (never another's)."""
    return f"consultation-{consultation_id}-documents"


def _limit() -> int:
    return int(current_app.config["MAILER"].mail.max_attachments_mb) * 1024 * 1024


def _consultation(consultation_id: int) -> Consultation:
    consultation = get_db().session.get(Consultation, consultation_id)
    if consultation is None:
        abort(404)
    return consultation


@requires("can_edit")
def add_document(consultation_id: int) -> ResponseReturnValue:
    """Attach a document. What happens is said in the Documents section, where the page
    lands; a refused document's title and web-version address are kept in the form."""
    consultation = _consultation(consultation_id)
    target = url_for("consultations.show", consultation_id=consultation.id, _anchor="documents")
    section_notes.keep(notes_key(consultation.id), _typed_document())
    limit = _limit()
    upload = request.files.get("document")
    if upload is None or not upload.filename:
        return _document_refused(consultation.id, target, "Choose a file to attach.")
    size = upload_size(upload)
    if size > limit:
        return _document_refused(consultation.id, target, too_large(size, limit))
    data = upload.read()
    db = get_db()
    try:
        with db.transaction(db.session) as session:
            documents.add_document(
                session,
                consultation,
                filename=upload.filename or "",
                data=data,
                title=request.form.get("title", ""),
                alternative_url=request.form.get("alternative_url", ""),
                folder=files.folder_for(current_app.config["MAILER"]),
                limit_bytes=limit,
                by=acting_user(session),
            )
    except (ConsultationRefused, files.FileRefused) as exc:
        return _document_refused(consultation.id, target, str(exc))
    section_notes.kept_for(notes_key(consultation.id))  # attached: the form starts empty again
    section_notes.note(notes_key(consultation.id), "Document attached.")
    return redirect(target, 303)


def _typed_document() -> dict[str, str]:
    return {
        "title": request.form.get("title", ""),
        "alternative_url": request.form.get("alternative_url", ""),
    }


def _document_refused(consultation_id: int, target: str, why: str) -> ResponseReturnValue:
    section_notes.note(notes_key(consultation_id), f"Not attached: {why}", category="error")
    return redirect(target, 303)


def _document_too_large(size: int) -> ResponseReturnValue | None:
    """An upload over the request limit (mailer/web/errors.py): back to the Documents
    section, the limit stated, the typed title and address kept."""
    consultation = get_db().session.get(
        Consultation, (request.view_args or {}).get("consultation_id", 0)
    )
    if not current_user.can_edit or consultation is None:
        return None
    section_notes.keep(notes_key(consultation.id), _typed_document())
    limit = _limit()
    target = url_for("consultations.show", consultation_id=consultation.id, _anchor="documents")
    return _document_refused(consultation.id, target, too_large(size, limit))


def register(bp: Blueprint) -> None:
    """Add the route to the consultations blueprint."""
    bp.post("/<int:consultation_id>/documents")(add_document)
    on_too_large(f"{bp.name}.add_document", _document_too_large)
    section_notes.register(bp)
