"""SendGrid's signed event webhook.

SendGrid signs the timestamp header followed by the raw body with ECDSA (P-256,
SHA-256); the signature (base64 DER) and the timestamp come in the
X-Twilio-Email-Event-Webhook-Signature and -Timestamp headers, and the public key is
the verification key SendGrid shows (``[bounces] sendgrid_public_key``). The body is
read only once the signature holds: a list of events, of which bounces, blocks, drops
of known-bad addresses and spam reports matter here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mailer.bounces.models import COMPLAINT, HARD, SOFT, SOURCE_SENDGRID
from mailer.bounces.reports import REPORT_BOUNCE, REPORT_COMPLAINT, Failure, Report
from mailer.bounces.webhooks import common
from mailer.bounces.webhooks.common import Verified, forbidden

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"

# A "dropped" event for these reasons means the address is known not to work; the
# other reasons (unsubscribed, spam reporting address, ...) are SendGrid's own lists.
_HARD_DROPS = ("Bounced Address", "Invalid")


class KeyUnusable(Exception):
    """``[bounces] sendgrid_public_key`` is not a P-256 public key."""


def public_key(text: str) -> ec.EllipticCurvePublicKey:
    """The verification key as SendGrid shows it: base64 of its DER encoding."""
    try:
        key = serialization.load_der_public_key(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError, TypeError):
        raise KeyUnusable("[bounces] sendgrid_public_key is not a public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise KeyUnusable("[bounces] sendgrid_public_key is not a P-256 (ECDSA) key")
    return key


def verify(
    body: bytes,
    *,
    signature: str,
    timestamp: str,
    key: ec.EllipticCurvePublicKey,
    now: datetime,
    tolerance: timedelta,
) -> Verified:
    """The events in ``body``, once the signature over timestamp + body holds."""
    if not signature or not timestamp:
        raise forbidden("The request is not signed (no SendGrid signature headers).")
    try:
        der = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise forbidden("The SendGrid signature is not base64.") from None
    try:
        key.verify(der, timestamp.encode("utf-8") + body, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        raise forbidden("The SendGrid signature does not match the request.") from None
    common.check_fresh(common.unix_time(timestamp), now=now, tolerance=tolerance)
    # ECDSA signatures can be re-encoded, so the request is known by what was signed.
    receipt = hashlib.sha256(timestamp.encode("utf-8") + b"\n" + body).hexdigest()
    events = common.load_json(body, what="event list")
    if not isinstance(events, list):
        raise common.malformed("The body is not a list of events.")
    reports: list[Report] = []
    ignored = 0
    for raw in events:
        report = _report(common.obj(raw, what="event"))
        if report is None:
            ignored += 1
        else:
            reports.append(report)
    return Verified(receipt_key=receipt, reports=tuple(reports), ignored=ignored)


def _report(event: dict[str, Any]) -> Report | None:
    name = common.text(event.get("event"), what="event name")
    reason = common.text(event.get("reason"), what="reason")
    status = common.text(event.get("status"), what="status")[:20]
    if name == "bounce":
        blocked = common.text(event.get("type"), what="bounce type") == "blocked"
        kind = SOFT if blocked or status.startswith("4") else HARD
        report_kind = REPORT_BOUNCE
    elif name == "dropped" and reason in _HARD_DROPS:
        kind, report_kind = HARD, REPORT_BOUNCE
        reason = f"Dropped by SendGrid: {reason}"
    elif name == "spamreport":
        kind, report_kind = COMPLAINT, REPORT_COMPLAINT
        reason = reason or "Marked as spam"
    else:  # delivered, deferred, open, click, other drops...: nothing to do here
        return None
    event_id = common.text(event.get("sg_event_id"), what="sg_event_id")
    if not event_id:
        # Events from before SendGrid gave ids: the event itself is its identity.
        canonical = json.dumps(event, sort_keys=True, separators=(",", ":"))
        event_id = "digest:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return Report(
        kind=report_kind,
        source=SOURCE_SENDGRID,
        fingerprint=event_id,
        failures=(
            Failure(
                address=common.address(event.get("email"), what="email"),
                kind=kind,
                status=status,
                diagnostic=reason,
            ),
        ),
        message_id=common.message_id(common.text(event.get("smtp-id"), what="smtp-id")),
        trusted=True,
        detail=f"SendGrid {name} event",
    )
