"""Telling the endpoints that something happened: one queued message per enabled
endpoint that asked for the event, added to the caller's transaction."""

from __future__ import annotations

import json
import logging
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.events import catalogue
from mailer.events.models import PENDING, WebhookEndpoint, WebhookMessage

log = logging.getLogger(__name__)


def emit(session: Session, event_type: str, data: dict[str, Any], *, now: datetime) -> int:
    """Queue ``event_type`` with ``data`` for every endpoint that wants it; how many.

    The body follows the Standard Webhooks shape: ``{"type", "timestamp", "data"}``.
    It is fixed now, so every attempt sends the same bytes."""
    if event_type not in catalogue.EVENTS:
        raise ValueError(f"unknown event type {event_type!r}")
    endpoints = session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.enabled.is_(True))
    ).all()
    wanting = [e for e in endpoints if event_type in e.events.split()]
    if not wanting:
        return 0
    body = json.dumps(
        {"type": event_type, "timestamp": now.isoformat().replace("+00:00", "Z"), "data": data},
        separators=(",", ":"),
        sort_keys=True,
    )
    for endpoint in wanting:
        session.add(
            WebhookMessage(
                endpoint_id=endpoint.id,
                message_id="msg_" + secrets.token_urlsafe(18),
                event_type=event_type,
                payload=body,
                state=PENDING,
                next_attempt_at=now,
                created_at=now,
            )
        )
    log.info("event %s queued for %d webhook endpoint(s)", event_type, len(wanting))
    return len(wanting)
