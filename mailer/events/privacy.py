"""A person's data in the webhook queue: erasure scrubs it, retention removes it.

The payloads of ``contact.unsubscribed``, ``delivery.bounced``, ``delivery.complained``
and ``signup.confirmed`` name an address, and an endpoint's answer may quote it back.
Erasing the contact replaces the address with ``[erased]`` in every message (pending
ones are still sent, without it: the other system keeps the contact id it needs) and in
every logged answer. Delivered and given-up messages, with their attempts, go after
``KEEP`` (listed in ``mailer.personal_data``).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from mailer.database import rows_changed
from mailer.events.models import DELIVERED, FAILED, WebhookAttempt, WebhookMessage

ERASED = "[erased]"
KEEP = timedelta(days=30)


def _scrub(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, list):
        return [_scrub(item, pattern) for item in value]
    if isinstance(value, dict):
        return {key: _scrub(item, pattern) for key, item in value.items()}
    return value


def scrub_webhooks(session: Session, contact_id: int, email: str) -> None:
    """Erasure: the address leaves every webhook message and every logged answer."""
    if not email:
        return
    pattern = re.compile(re.escape(email), re.IGNORECASE)
    # The payload is JSON with ASCII escapes: an address with non-ASCII letters is
    # written escaped, so look for both spellings.
    escaped = json.dumps(email)[1:-1]
    spellings = {email.lower(), escaped.lower()}
    payload = func.lower(WebhookMessage.payload)
    for message in session.scalars(
        select(WebhookMessage).where(or_(*(payload.contains(s) for s in spellings)))
    ):
        body = _scrub(json.loads(message.payload), pattern)
        message.payload = json.dumps(body, separators=(",", ":"), sort_keys=True)
    answer = func.lower(WebhookAttempt.response)
    for attempt in session.scalars(
        select(WebhookAttempt).where(or_(*(answer.contains(s) for s in spellings)))
    ):
        attempt.response = pattern.sub(ERASED, attempt.response).replace(escaped, ERASED)


def purge(session: Session, *, now: datetime, keep: timedelta = KEEP) -> int:
    """Delivered and given-up messages older than ``keep``, and their attempts (deleted
    first: SQLite may not cascade)."""
    old = select(WebhookMessage.id).where(
        WebhookMessage.state.in_((DELIVERED, FAILED)), WebhookMessage.created_at < now - keep
    )
    ids = list(session.scalars(old))
    if not ids:
        return 0
    session.execute(delete(WebhookAttempt).where(WebhookAttempt.message_id.in_(ids)))
    return rows_changed(session, delete(WebhookMessage).where(WebhookMessage.id.in_(ids)))
