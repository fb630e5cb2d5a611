"""What the admin reads about an endpoint: its state in words, its last delivery, and
its messages newest first with every attempt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer.events.models import DELIVERED, WebhookAttempt, WebhookEndpoint, WebhookMessage

LOG_LIMIT = 50


@dataclass(frozen=True)
class Overview:
    endpoint: WebhookEndpoint
    last_delivered_at: datetime | None
    pending: int


@dataclass(frozen=True)
class Entry:
    message: WebhookMessage
    attempts: list[WebhookAttempt]


def overviews(session: Session) -> list[Overview]:
    """Every endpoint, by name, with its last delivery and how many messages wait."""
    last = dict(
        session.execute(
            select(WebhookMessage.endpoint_id, func.max(WebhookMessage.delivered_at))
            .where(WebhookMessage.state == DELIVERED)
            .group_by(WebhookMessage.endpoint_id)
        ).all()
    )
    waiting = dict(
        session.execute(
            select(WebhookMessage.endpoint_id, func.count())
            .where(WebhookMessage.state == "pending")
            .group_by(WebhookMessage.endpoint_id)
        ).all()
    )
    return [
        Overview(endpoint, last.get(endpoint.id), int(waiting.get(endpoint.id, 0)))
        for endpoint in session.scalars(
            select(WebhookEndpoint).order_by(WebhookEndpoint.name, WebhookEndpoint.id)
        )
    ]


def overview(session: Session, endpoint: WebhookEndpoint) -> Overview:
    return next(o for o in overviews(session) if o.endpoint.id == endpoint.id)


def entries(session: Session, endpoint_id: int, *, limit: int = LOG_LIMIT) -> list[Entry]:
    """The endpoint's latest messages, newest first, each with its attempts in order."""
    messages = list(
        session.scalars(
            select(WebhookMessage)
            .where(WebhookMessage.endpoint_id == endpoint_id)
            .order_by(WebhookMessage.id.desc())
            .limit(limit)
        )
    )
    attempts: dict[int, list[WebhookAttempt]] = {m.id: [] for m in messages}
    if messages:
        for attempt in session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.message_id.in_(list(attempts)))
            .order_by(WebhookAttempt.id)
        ):
            attempts[attempt.message_id].append(attempt)
    return [Entry(m, attempts[m.id]) for m in messages]
