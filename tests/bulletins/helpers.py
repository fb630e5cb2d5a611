"""Bulletins and sends made directly, for the tests of reuse and of the bulletins list."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from contacts import audience
from contacts.models import ContactList
from mailer.accounts.models import User
from mailer.bulletins.models import Bulletin, BulletinAttachment, StoredFile
from mailer.database import Database
from mailer.delivery import send_states
from mailer.delivery.models import SEND_DRAFT, Send
from mailer.email_templates.models import KIND_BULLETIN, EmailTemplate

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)


def make_bulletin(
    db: Database,
    writer: User,
    *,
    attach: bool = True,
    subject: str = "Stakeholder Special: March",
    kind: str = KIND_BULLETIN,
    consultation_id: int | None = None,
) -> int:
    with db.transaction() as session:
        template = session.scalar(select(EmailTemplate).where(EmailTemplate.kind == kind).limit(1))
        bulletin = Bulletin(
            kind=kind,
            template_id=template.id,
            subject=subject,
            consultation_id=consultation_id,
            preheader="The month in Northshire",
            body_markdown="Hello **partners**.",
            link_documents=True,
            created_by_id=writer.id,
        )
        if attach:
            stored = session.scalar(select(StoredFile).where(StoredFile.sha256 == "a" * 64))
            stored = stored or StoredFile(sha256="a" * 64, size=12, content_type="application/pdf")
            session.add(stored)
            session.flush()
            bulletin.attachments = [
                BulletinAttachment(file_id=stored.id, filename="plan.pdf", title="The plan")
            ]
        session.add(bulletin)
        session.flush()
        return bulletin.id


def add_send(
    db: Database, bulletin_id: int, *moves: str, audience_of: audience.Audience | None = None
) -> int:
    """A send of the bulletin moved through ``moves`` ("submit", "schedule", "fire",
    "finish", "cancel") as send_states moves it."""
    with db.transaction() as session:
        partners = ContactList(name=f"Partners {uuid.uuid4().hex[:8]}")
        session.add(partners)
        session.flush()
        send = Send(
            bulletin_id=bulletin_id,
            kind=KIND_BULLETIN,
            title="March",
            audience=(audience_of or audience.Audience.of(lists=[partners.id])).to_json(),
            state=SEND_DRAFT,
        )
        session.add(send)
        session.flush()
        by_id = session.get(Bulletin, bulletin_id).created_by_id or 0
        for move in moves:
            if move == "submit":
                send_states.submit(send, now=NOW, by_id=by_id)
            elif move == "schedule":
                send_states.schedule(send, now=NOW, by_id=by_id, frozen={}, audience=send.audience)
            elif move == "fire":
                send_states.fire(send, now=NOW)
            elif move == "finish":
                send_states.finish(send, now=NOW)
            elif move == "cancel":
                send_states.cancel(send, now=NOW)
        return send.id
