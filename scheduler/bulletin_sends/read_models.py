"""Reading a bulletin's own sends: the object ``mailer bulletin show --json`` prints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts.audience import describe
from mailer.bulletins.models import Bulletin
from mailer.delivery import sends
from mailer.delivery.models import Send
from mailer.tracking.send_reports import clicks_by_link


def iso(moment: datetime | None) -> str | None:
    """UTC, ISO 8601 with a Z (as ``consultation show --json`` prints)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def send_json(session: Session, send: Send) -> dict[str, Any]:
    progress = sends.progress(session, send.id)
    return {
        "id": send.id,
        "due_at": iso(send.due_at),
        "requested_at": iso(send.requested_at),
        "fired_at": iso(send.fired_at),
        "state": send.state,
        "reasons": list(send.reasons),
        "audience": dict(send.audience),
        "audience_described": describe(session, send.audience),
        "counts": progress.counts(),
        "clicks": clicks_by_link(session, send.id),
    }


def bulletin_state(bulletin: Bulletin, states: list[str]) -> str:
    """One word for the bulletin: archived, or its latest send's state, else draft."""
    if bulletin.archived_at is not None:
        return "archived"
    return states[-1] if states else "draft"


def to_json(session: Session, bulletin: Bulletin) -> dict[str, Any]:
    """``id``, ``state``, ``subject`` and ``sends`` (each with ``id``, ``due_at``,
    ``fired_at``, ``state``, ``audience``, ``counts`` and ``clicks``)."""
    own = session.scalars(
        select(Send)
        .where(Send.bulletin_id == bulletin.id, Send.consultation_id.is_(None))
        .order_by(Send.id)
    ).all()
    items = [send_json(session, s) for s in own]
    return {
        "id": bulletin.id,
        "state": bulletin_state(bulletin, [s.state for s in own]),
        "subject": bulletin.subject,
        "kind": bulletin.kind,
        "consultation_id": bulletin.consultation_id,
        "sends": items,
    }
