"""The Standard Webhooks headers of one message, signed with the specification's own
reference library (``standardwebhooks``), so a receiver verifies them with the same
library in any language:

    webhook-id: msg_...            the same on every attempt (the receiver's dedup key)
    webhook-timestamp: 1764637200  seconds since 1970, when this attempt was signed
    webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">
"""

from __future__ import annotations

from datetime import datetime
from math import floor

from standardwebhooks import Webhook

USER_AGENT = "StakeholderMailer-Webhooks/1 (+https://github.com/stakeholder-mailer)"


def headers(*, secret: str, message_id: str, at: datetime, body: str) -> dict[str, str]:
    """Every header of one attempt. ``at`` is the wall clock: receivers refuse a
    timestamp more than five minutes from their own clock (replay protection)."""
    signature = Webhook(secret).sign(message_id, at, body)
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(floor(at.timestamp())),
        "webhook-signature": str(signature),
    }
