"""Mailgun's webhooks (chosen over Postmark's, which are not signed).

Mailgun posts JSON: ``signature`` holds a timestamp, a random token and the
HMAC-SHA256 of timestamp + token under the webhook signing key (``[bounces]
mailgun_signing_key``); ``event-data`` holds one event. The token is the request's
identity: seen again, the request is a replay. The event is read only once the
signature holds.

- ``failed``: severity permanent is a hard bounce, temporary a soft one;
- ``complained``: a complaint (unsubscribed and suppressed at once);
- ``unsubscribed``: the person used Mailgun's own unsubscribe link (Mailgun's
  unsubscribe tracking is on). Mailgun will not send to them again, so the contact is
  unsubscribed here too, as from our own link: not a complaint, and they may subscribe
  again.
- anything else (delivered, opened, ...) changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any

from mailer.bounces.models import COMPLAINT, HARD, SOFT, SOURCE_MAILGUN
from mailer.bounces.reports import REPORT_BOUNCE, REPORT_COMPLAINT, Failure, Report
from mailer.bounces.webhooks import common
from mailer.bounces.webhooks.common import Unsubscribe, Verified, forbidden


def verify(body: bytes, *, signing_key: str, now: datetime, tolerance: timedelta) -> Verified:
    """The event in ``body``, once its signature holds."""
    payload = common.obj(common.load_json(body, what="webhook body"), what="webhook body")
    signature = payload.get("signature")
    if not isinstance(signature, dict):
        raise forbidden("The request is not signed (no Mailgun signature).")
    timestamp = signature.get("timestamp")
    token = signature.get("token")
    given = signature.get("signature")
    if not all(isinstance(value, str) and value for value in (timestamp, token, given)):
        raise forbidden("The Mailgun signature is incomplete.")
    assert isinstance(timestamp, str) and isinstance(token, str) and isinstance(given, str)
    expected = hmac.new(
        signing_key.encode("utf-8"), (timestamp + token).encode("utf-8"), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected.encode(), given.strip().lower().encode("utf-8")):
        raise forbidden("The Mailgun signature does not match.")
    common.check_fresh(common.unix_time(timestamp), now=now, tolerance=tolerance)
    event = common.obj(payload.get("event-data"), what="event-data")
    return _verified(event, token=token)


def _verified(event: dict[str, Any], *, token: str) -> Verified:
    name = common.text(event.get("event"), what="event")
    if name not in ("failed", "complained", "unsubscribed"):
        return Verified(receipt_key=token, ignored=1)
    recipient = common.address(event.get("recipient"), what="recipient")
    message = common.obj(event.get("message") or {}, what="message")
    headers = common.obj(message.get("headers") or {}, what="message headers")
    message_id = common.message_id(common.text(headers.get("message-id"), what="message-id"))
    if name == "unsubscribed":
        return Verified(
            receipt_key=token,
            unsubscribes=(Unsubscribe(address=recipient, message_id=message_id),),
        )
    event_id = common.text(event.get("id"), what="event id") or token
    if name == "complained":
        failure = Failure(address=recipient, kind=COMPLAINT, diagnostic="Marked as spam")
        report_kind = REPORT_COMPLAINT
    else:
        severity = common.text(event.get("severity"), what="severity")
        status = common.obj(event.get("delivery-status") or {}, what="delivery-status")
        failure = Failure(
            address=recipient,
            kind=HARD if severity == "permanent" else SOFT,
            status=_enhanced(status),
            diagnostic=_diagnostic(status, reason=event.get("reason")),
        )
        report_kind = REPORT_BOUNCE
    report = Report(
        kind=report_kind,
        source=SOURCE_MAILGUN,
        fingerprint=event_id,
        failures=(failure,),
        message_id=message_id,
        trusted=True,
        detail=f"Mailgun {name} event",
    )
    return Verified(receipt_key=token, reports=(report,))


def _enhanced(status: dict[str, Any]) -> str:
    code = common.text(status.get("enhanced-code"), what="enhanced-code")
    return code[:20] if code[:2] in ("4.", "5.") else ""


def _diagnostic(status: dict[str, Any], *, reason: object) -> str:
    code = common.text(status.get("code"), what="delivery-status code")
    words = common.text(status.get("message"), what="delivery-status message") or common.text(
        status.get("description"), what="delivery-status description"
    )
    diagnostic = f"{code} {words}".strip()
    return diagnostic or common.text(reason, what="reason")
