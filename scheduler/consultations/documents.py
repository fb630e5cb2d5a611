"""The documents of a consultation (the draft plan): added and removed while it is a
draft; the launch carries them.

Every function takes a session and never commits; the caller owns the transaction."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from mailer import audit
from mailer.accounts.models import User
from mailer.audit import actions
from mailer.bulletins import files
from mailer.organisation.service import check_url
from mailer.rendering.mime import one_line
from scheduler import approval
from scheduler.consultations.details import ConsultationRefused
from scheduler.consultations.lifecycle import lock
from scheduler.models import (
    DRAFT,
    Consultation,
    ConsultationDocument,
)


def add_document(
    session: Session,
    consultation: Consultation,
    *,
    filename: str,
    data: bytes,
    title: str = "",
    alternative_url: str = "",
    folder: Path,
    limit_bytes: int,
    by: User,
) -> ConsultationDocument:
    """Attach a document (the draft plan). Only a draft changes: what an approval
    froze stays as approved."""
    lock(session, consultation)
    if consultation.state != DRAFT:
        raise ConsultationRefused(
            "Documents can be changed while the consultation is a draft; edit it first "
            "to return it to draft."
        )
    name, kind = files.check(filename, data)
    alternative_url = alternative_url.strip()
    if problem := check_url(alternative_url):
        raise files.FileRefused(f"The web version's address: {problem}")
    files.check_room(
        name,
        len(data),
        used=sum(d.file.size for d in consultation.documents),
        limit_bytes=limit_bytes,
        taken=[d.filename for d in consultation.documents],
        owner="This consultation",
        what="the consultation's documents",
        advice="The launch carries them all: make the file smaller.",
    )
    stored = files.store(session, folder, data, kind.content_type)
    document = ConsultationDocument(
        file=stored,
        filename=name,
        title=one_line(title)[:255] or Path(name).stem,
        position=len(consultation.documents),
        alternative_url=alternative_url,
    )
    consultation.documents.append(document)
    session.flush()
    approval.note(
        session, consultation, by=by, action=approval.EDITED, part=f"documents: added {name}"
    )
    audit.record(
        session,
        actions.CONSULTATION_DOCUMENT_ADDED,
        actor=by,
        target_type="consultation",
        target_id=consultation.id,
        summary=f'Added {name} ({files.human_size(len(data))}) to "{consultation.title}"',
    )
    return document


def remove_document(
    session: Session, consultation: Consultation, document_id: int, *, by: User
) -> str:
    lock(session, consultation)
    if consultation.state != DRAFT:
        raise ConsultationRefused(
            "Documents can be changed while the consultation is a draft; edit it first."
        )
    document = next((d for d in consultation.documents if d.id == document_id), None)
    if document is None:
        raise LookupError("that document is not on this consultation")
    consultation.documents.remove(document)
    for position, remaining in enumerate(consultation.documents):
        remaining.position = position
    approval.note(
        session,
        consultation,
        by=by,
        action=approval.EDITED,
        part=f"documents: removed {document.filename}",
    )
    audit.record(
        session,
        actions.CONSULTATION_DOCUMENT_REMOVED,
        actor=by,
        target_type="consultation",
        target_id=consultation.id,
        summary=f'Removed {document.filename} from "{consultation.title}"',
    )
    return document.filename
