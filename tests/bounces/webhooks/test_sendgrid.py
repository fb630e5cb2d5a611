"""SendGrid's signed event webhook: ECDSA over timestamp + body, then the events."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from flask.testing import FlaskClient

from contacts.models import ACTIVE, BOUNCED, UNSUBSCRIBED
from mailer.database import Database
from mailer.delivery.models import BOUNCED as DELIVERY_BOUNCED
from mailer.delivery.models import SENT
from tests.bounces.webhooks.conftest import NOW, PEOPLE, Keys, Sent, counts, person

URL = "/webhooks/sendgrid"
ANN, BOB, CAT = PEOPLE


def event(name: str, address: str, *, smtp_id: str = "", **fields: Any) -> dict[str, Any]:
    """One event as SendGrid's Event Webhook reference shows it."""
    return {
        "email": address,
        "timestamp": int(NOW.timestamp()) - 5,
        "smtp-id": smtp_id,
        "event": name,
        "category": ["bulletin"],
        "sg_event_id": base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="),
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
        **fields,
    }


def signed(key: ec.EllipticCurvePrivateKey, body: bytes, *, at: float) -> dict[str, str]:
    timestamp = str(int(at))
    signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
    }


def post(client: FlaskClient, body: bytes, headers: dict[str, str]) -> Any:
    return client.post(URL, data=body, headers={"Content-Type": "application/json", **headers})


def test_a_signed_bounce_suppresses_a_block_is_counted_and_a_spam_report_unsubscribes(
    client: FlaskClient, db: Database, sent: Sent, keys: Keys
) -> None:
    events = [
        event("processed", ANN, smtp_id=sent.message_ids[ANN]),
        event(
            "bounce",
            ANN,
            smtp_id=sent.message_ids[ANN],
            type="bounce",
            status="5.1.1",
            reason="550 5.1.1 The email account that you tried to reach does not exist.",
        ),
        event(
            "bounce",
            BOB,
            smtp_id=sent.message_ids[BOB],
            type="blocked",
            status="5.7.1",
            reason="550 5.7.1 blocked by policy",
        ),
        event("spamreport", CAT, smtp_id=sent.message_ids[CAT]),
        event("deferred", BOB, smtp_id=sent.message_ids[BOB], response="450 try later"),
    ]
    body = json.dumps(events).encode()
    response = post(client, body, signed(keys.sendgrid, body, at=NOW.timestamp()))

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json is not None
    assert (response.json["recorded"], response.json["ignored"]) == (3, 2)
    ann, bob, cat = (person(db, address) for address in PEOPLE)
    assert (ann.status, ann.suppressed, ann.delivery_state) == (BOUNCED, True, DELIVERY_BOUNCED)
    assert (bob.status, bob.suppressed, bob.delivery_state) == (ACTIVE, False, SENT)
    assert (cat.status, cat.suppressed) == (UNSUBSCRIBED, True)


@pytest.mark.parametrize(
    ("reason", "suppressed"), [("Bounced Address", True), ("Unsubscribed Address", False)]
)
def test_a_drop_suppresses_only_for_a_known_bad_address(
    client: FlaskClient, db: Database, sent: Sent, keys: Keys, reason: str, suppressed: bool
) -> None:
    body = json.dumps([event("dropped", ANN, smtp_id=sent.message_ids[ANN], reason=reason)])
    data = body.encode()
    assert post(client, data, signed(keys.sendgrid, data, at=NOW.timestamp())).status_code == 200
    assert person(db, ANN).suppressed is suppressed


def test_a_soft_status_on_a_bounce_is_soft(
    client: FlaskClient, db: Database, sent: Sent, keys: Keys
) -> None:
    data = json.dumps(
        [event("bounce", ANN, smtp_id=sent.message_ids[ANN], type="bounce", status="4.2.2")]
    ).encode()
    assert post(client, data, signed(keys.sendgrid, data, at=NOW.timestamp())).status_code == 200
    assert person(db, ANN).status == ACTIVE and counts(db)[0] == 1


def test_unsigned_tampered_replayed_and_old_requests_change_nothing(
    client: FlaskClient, db: Database, sent: Sent, keys: Keys
) -> None:
    body = json.dumps(
        [event("bounce", ANN, smtp_id=sent.message_ids[ANN], type="bounce", status="5.1.1")]
    ).encode()
    headers = signed(keys.sendgrid, body, at=NOW.timestamp())
    assert post(client, body, {}).status_code == 403
    tampered = body.replace(ANN.encode(), BOB.encode())
    assert post(client, tampered, headers).status_code == 403
    other_time = dict(headers, **{"X-Twilio-Email-Event-Webhook-Timestamp": "1"})
    assert post(client, body, other_time).status_code == 403
    stranger = ec.generate_private_key(ec.SECP256R1())
    assert post(client, body, signed(stranger, body, at=NOW.timestamp())).status_code == 403
    old = signed(keys.sendgrid, body, at=(NOW - timedelta(minutes=6)).timestamp())
    response = post(client, body, old)
    assert response.status_code == 403 and "too long ago" in response.get_data(as_text=True)
    assert counts(db) == (0, 0) and person(db, ANN).status == ACTIVE

    assert post(client, body, headers).status_code == 200
    assert post(client, body, headers).status_code == 409
    # The same request signed again (a fresh ECDSA signature) is still the same request.
    assert post(client, body, signed(keys.sendgrid, body, at=NOW.timestamp())).status_code == 409
    assert counts(db) == (1, 1)


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"event": "bounce"}',
        b"[1, 2]",
        b'[{"event": "bounce", "email": ["a@b.c"]}]',
        b'[{"event": "spamreport", "email": "not an address"}]',
        b'[{"event": "bounce", "email": "a@example.org", "status": {"x": 1}}]',
    ],
)
def test_a_signed_malformed_body_is_400(
    client: FlaskClient, db: Database, keys: Keys, body: bytes
) -> None:
    assert post(client, body, signed(keys.sendgrid, body, at=NOW.timestamp())).status_code == 400
    assert counts(db) == (0, 0)


def test_a_signature_that_is_not_base64_is_403(client: FlaskClient, db: Database) -> None:
    headers = {
        "X-Twilio-Email-Event-Webhook-Signature": "%%%",
        "X-Twilio-Email-Event-Webhook-Timestamp": str(int(NOW.timestamp())),
    }
    assert post(client, b"[]", headers).status_code == 403
