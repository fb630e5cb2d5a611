"""Reading consultations: finding one, what the public sees, who it goes to, the checks
shown before submitting and approving, and the object the command line prints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from contacts.audience import audience_contacts
from contacts.models import ACTIVE
from mailer.bulletins import context
from mailer.bulletins.consultation_facts import FrozenConsultation
from mailer.delivery import sends
from mailer.delivery.models import (
    SEND_DRAFT,
    Send,
)
from mailer.public_urls import PublicUrls
from scheduler import approval, statutory
from scheduler.consultations.planning import timeline
from scheduler.models import (
    TYPE_GENERAL,
    Consultation,
)


def public_condition() -> Any:
    """SQL: the consultation is public. Once approved, or once any of its messages went
    (a later edit returns it to draft, but the links people hold keep working)."""
    went = (
        select(Send.id)
        .where(Send.consultation_id == Consultation.id, Send.fired_at.is_not(None))
        .exists()
    )
    return or_(Consultation.approved_at.is_not(None), went)


def owner_of(session: Session, bulletin_id: int) -> tuple[Send, Consultation] | None:
    """The timeline send and consultation a bulletin was made for, if any."""
    row = session.execute(
        select(Send, Consultation)
        .join(Consultation, Consultation.id == Send.consultation_id)
        .where(Send.bulletin_id == bulletin_id)
    ).first()
    return None if row is None else (row[0], row[1])


def locked_reason(session: Session, bulletin_id: int) -> str | None:
    """Why a consultation's message cannot be edited now (approved or sent), or None."""
    found = owner_of(session, bulletin_id)
    if found is None or found[0].state == SEND_DRAFT:
        return None
    send, consultation = found
    return (
        f'This message is part of "{consultation.title}" and was approved as it is '
        f"({send.state}). Return the consultation to draft to change a message not yet sent."
    )


def view_of(consultation: Consultation, base_url: str) -> context.ConsultationView:
    """The consultation as a message shows it (previews of its messages)."""
    return FrozenConsultation.of(consultation, base_url=base_url).view()


def find(session: Session, key: str | int) -> Consultation | None:
    """By id, or by slug."""
    text = str(key)
    if text.isdigit():
        return session.get(Consultation, int(text))
    return session.scalar(select(Consultation).where(Consultation.slug == text))


def to_json(session: Session, consultation: Consultation, *, now: datetime) -> dict[str, Any]:
    """The object ``mailer consultation show --json`` prints: ``id``, ``state`` and
    ``sends``, each with ``kind``, ``due_at``, ``fired_at``, ``state`` and ``counts``."""
    items = []
    for send in timeline(session, consultation):
        progress = sends.progress(session, send.id)
        items.append(
            {
                "id": send.id,
                "kind": send.kind,
                "label": send.label,
                "planned_at": _iso(send.planned_at),
                "due_at": _iso(send.due_at),
                "fired_at": _iso(send.fired_at),
                "state": send.state,
                "reasons": list(send.reasons),
                "counts": progress.counts(),
            }
        )
    return {
        "id": consultation.id,
        "slug": consultation.slug,
        "title": consultation.title,
        "type": consultation.type,
        "state": consultation.phase(now),
        "opens_at": _iso(consultation.opens_at),
        "closes_at": _iso(consultation.closes_at),
        "survey_url": consultation.survey_url,
        "recipients": recipients(session, consultation),
        "sends": items,
    }


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def recipients(session: Session, consultation: Consultation) -> int:
    """Active contacts in the audience: who the launch would go to now."""
    audience = audience_contacts(session, consultation.audience).subquery()
    return (
        session.scalar(
            select(func.count()).select_from(audience).where(audience.c.status == ACTIVE)
        )
        or 0
    )


def checks(session: Session, consultation: Consultation) -> list[str]:
    """What a submitter and an approver should know: missing statutory audiences,
    nobody to send to, no documents for a plan."""
    found = statutory.warnings(session, consultation)
    if recipients(session, consultation) == 0:
        found.insert(0, "Nobody would receive it: the audience has no active contact.")
    if not consultation.documents and consultation.type != TYPE_GENERAL:
        found.append("No document is attached: people are asked to read the draft.")
    return found


def version(session: Session, consultation: Consultation, *, base_url: str) -> str:
    """The content hash of what an approval now would freeze (scheduler/approval.py)."""
    extra = FrozenConsultation.of(consultation, base_url=base_url).extra()
    return approval.content_hash(session, consultation, extra=extra)


def page_url(consultation: Consultation, base_url: str) -> str:
    """The consultation's public page."""
    return PublicUrls(base_url).consultation(consultation.slug)
