"""The public address of a document a bulletin links to instead of attaching.

Served by content hash and name: the address cannot be guessed without the file
itself, and only files attached to some bulletin, or to an approved consultation, are
served.
"""

from __future__ import annotations

from flask import Blueprint, abort
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from mailer import public_urls
from mailer.bulletins.attachment_views import file_response
from mailer.bulletins.models import BulletinAttachment, StoredFile
from mailer.database import get_db
from scheduler.consultations import read_models
from scheduler.models import Consultation, ConsultationDocument

documents_bp = Blueprint("documents", __name__)


@documents_bp.get(public_urls.DOCUMENT)
def document(sha256: str, filename: str) -> ResponseReturnValue:
    if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
        abort(404)
    session = get_db().session
    found = session.execute(
        select(StoredFile.content_type)
        .join(BulletinAttachment, BulletinAttachment.file_id == StoredFile.id)
        .where(StoredFile.sha256 == sha256, BulletinAttachment.filename == filename)
        .limit(1)
    ).first()
    if found is None:
        # A consultation's documents (the draft plan): public once it is approved.
        found = session.execute(
            select(StoredFile.content_type)
            .join(ConsultationDocument, ConsultationDocument.file_id == StoredFile.id)
            .join(Consultation, Consultation.id == ConsultationDocument.consultation_id)
            .where(
                StoredFile.sha256 == sha256,
                ConsultationDocument.filename == filename,
                read_models.public_condition(),
            )
            .limit(1)
        ).first()
    if found is None:
        abort(404)
    return file_response(sha256, filename, found.content_type)
