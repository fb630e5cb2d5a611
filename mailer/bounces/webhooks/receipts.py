"""The replay guard: every signed request acted on leaves a receipt, and the same
request again (the same SNS message, SendGrid body and timestamp, Mailgun token) is
refused. A request older than ``[bounces] webhook_tolerance`` is refused before it gets
here, so a receipt only has to outlive that window; older ones are forgotten."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mailer.bounces.models import WebhookReceipt
from mailer.bounces.webhooks.common import CONFLICT, Refused

# Receipts are kept at least this long, whatever the tolerance: a clock that moved,
# or a provider retrying within the window from either side, still meets its receipt.
SHORTEST_KEEP = timedelta(days=1)
MAX_KEY = 200


def key_for(value: str) -> str:
    """``value`` as a receipt key: itself when short, else its digest."""
    if len(value) <= MAX_KEY and value.isprintable():
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()


def seen(session: Session, *, provider: str, key: str) -> bool:
    return (
        session.scalar(
            select(WebhookReceipt.id).where(
                WebhookReceipt.provider == provider, WebhookReceipt.key == key_for(key)
            )
        )
        is not None
    )


def claim(
    session: Session, *, provider: str, key: str, now: datetime, tolerance: timedelta
) -> None:
    """Record that this request is being acted on, in the caller's transaction; refuse
    it (409) if it was before. Two copies arriving at once: the unique constraint on
    (provider, key) makes the second transaction fail, and the caller answers 409."""
    if seen(session, provider=provider, key=key):
        raise Refused(CONFLICT, "This request was already received: it is a replay.")
    keep = max(2 * tolerance, SHORTEST_KEEP)
    session.execute(
        delete(WebhookReceipt).where(
            WebhookReceipt.provider == provider, WebhookReceipt.received_at < now - keep
        )
    )
    session.add(WebhookReceipt(provider=provider, key=key_for(key), received_at=now))
    session.flush()
