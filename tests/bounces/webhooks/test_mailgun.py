"""Mailgun's webhooks: HMAC-SHA256 of timestamp + token, the token used once."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from contacts.models import ACTIVE, BOUNCED, UNSUBSCRIBED
from mailer.database import Database
from mailer.delivery.models import BOUNCED as DELIVERY_BOUNCED
from mailer.delivery.models import SENT
from tests.bounces.webhooks.conftest import NOW, PEOPLE, Keys, Sent, counts, person

URL = "/webhooks/mailgun"
ANN, BOB, CAT = PEOPLE


def bare(message_id: str) -> str:
    """Mailgun quotes the Message-ID without its angle brackets."""
    return message_id.strip("<>")


def event_data(name: str, address: str, *, message_id: str, **fields: Any) -> dict[str, Any]:
    """One event as Mailgun's webhook documentation shows it."""
    return {
        "event": name,
        "id": uuid.uuid4().hex[:22],
        "timestamp": NOW.timestamp() - 3,
        "recipient": address,
        "recipient-domain": address.split("@")[1],
        "tags": [],
        "message": {
            "headers": {
                "to": address,
                "message-id": bare(message_id),
                "from": "Northshire PCC <news@pcc.example.org>",
                "subject": "Stakeholder Special: news",
            },
            "attachments": [],
            "size": 2142,
        },
        **fields,
    }


def failed(address: str, *, message_id: str, severity: str) -> dict[str, Any]:
    return event_data(
        "failed",
        address,
        message_id=message_id,
        severity=severity,
        reason="bounce" if severity == "permanent" else "generic",
        **{
            "log-level": "error",
            "delivery-status": {
                "attempt-no": 1,
                "code": 550 if severity == "permanent" else 452,
                "message": "5.1.1 The email account does not exist"
                if severity == "permanent"
                else "4.2.2 Mailbox full",
                "description": "",
                "enhanced-code": "5.1.1" if severity == "permanent" else "4.2.2",
                "session-seconds": 0.4,
            },
        },
    )


def payload(
    key: str, data: dict[str, Any], *, at: float | None = None, token: str | None = None
) -> dict[str, Any]:
    timestamp = str(int(NOW.timestamp() if at is None else at))
    token = token or secrets.token_hex(25)
    signature = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": data,
    }


def post(client: FlaskClient, body: dict[str, Any] | bytes) -> Any:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(URL, data=data, headers={"Content-Type": "application/json"})


def test_a_permanent_failure_suppresses_and_marks_the_delivery_bounced(
    client: FlaskClient, db: Database, sent: Sent, keys: Keys
) -> None:
    data = failed(ANN, message_id=sent.message_ids[ANN], severity="permanent")
    response = post(client, payload(keys.mailgun, data))
    assert response.status_code == 200, response.get_data(as_text=True)
    ann = person(db, ANN)
    assert (ann.status, ann.suppressed, ann.delivery_state) == (BOUNCED, True, DELIVERY_BOUNCED)


def test_a_temporary_failure_is_counted_only(
    client: FlaskClient, db: Database, sent: Sent, keys: Keys
) -> None:
    data = failed(BOB, message_id=sent.message_ids[BOB], severity="temporary")
    assert post(client, payload(keys.mailgun, data)).status_code == 200
    bob = person(db, BOB)
    assert (bob.status, bob.suppressed, bob.delivery_state) == (ACTIVE, False, SENT)
    assert counts(db) == (1, 1)


def test_a_complaint_unsubscribes_and_suppresses(
    client: FlaskClient, db: Database, sent: Sent, keys: Keys
) -> None:
    data = event_data("complained", CAT, message_id=sent.message_ids[CAT])
    assert post(client, payload(keys.mailgun, data)).status_code == 200
    cat = person(db, CAT)
    assert (cat.status, cat.suppressed) == (UNSUBSCRIBED, True)


def test_mailguns_own_unsubscribe_link_unsubscribes_the_contact(
    client: FlaskClient, db: Database, sent: Sent, keys: Keys
) -> None:
    data = event_data("unsubscribed", BOB, message_id=sent.message_ids[BOB])
    response = post(client, payload(keys.mailgun, data))
    assert response.status_code == 200 and response.json is not None
    assert response.json["unsubscribed"] == 1
    assert person(db, BOB).status == UNSUBSCRIBED
    assert counts(db)[0] == 0  # an unsubscribe is not a bounce or a complaint


def test_other_events_change_nothing(
    client: FlaskClient, db: Database, sent: Sent, keys: Keys
) -> None:
    data = event_data("delivered", ANN, message_id=sent.message_ids[ANN])
    response = post(client, payload(keys.mailgun, data))
    assert response.status_code == 200 and response.json is not None
    assert response.json["ignored"] == 1 and person(db, ANN).status == ACTIVE


def test_unsigned_tampered_replayed_and_old_requests_change_nothing(
    client: FlaskClient, db: Database, sent: Sent, keys: Keys
) -> None:
    data = failed(ANN, message_id=sent.message_ids[ANN], severity="permanent")
    good = payload(keys.mailgun, data)
    assert post(client, {"event-data": data}).status_code == 403
    wrong_key = payload(secrets.token_hex(16), data)
    assert post(client, wrong_key).status_code == 403
    tampered = dict(good, signature=dict(good["signature"], token=secrets.token_hex(25)))
    assert post(client, tampered).status_code == 403
    old = payload(keys.mailgun, data, at=(NOW - timedelta(minutes=6)).timestamp())
    response = post(client, old)
    assert response.status_code == 403 and "too long ago" in response.get_data(as_text=True)
    assert counts(db) == (0, 0) and person(db, ANN).status == ACTIVE

    assert post(client, good).status_code == 200
    assert post(client, good).status_code == 409
    # Another event under a token already used is a replay too.
    other = event_data("complained", BOB, message_id=sent.message_ids[BOB])
    token = good["signature"]["token"]
    assert post(client, payload(keys.mailgun, other, token=token)).status_code == 409
    assert counts(db) == (1, 1) and person(db, BOB).status == ACTIVE


@pytest.mark.parametrize(
    "event",
    [
        None,
        [],
        {"event": "failed"},
        {"event": "failed", "recipient": 12},
        {"event": "complained", "recipient": "a@example.org", "message": "text"},
        {"event": "failed", "recipient": "a@example.org", "delivery-status": [1]},
    ],
)
def test_a_signed_malformed_event_is_400(
    client: FlaskClient, db: Database, keys: Keys, event: Any
) -> None:
    body = payload(keys.mailgun, {})
    body["event-data"] = event
    assert post(client, body).status_code == 400
    assert counts(db) == (0, 0)


@pytest.mark.parametrize(
    "body", [b"{not json", b"[]", b'{"signature": "x"}', b'{"signature": {"token": 5}}']
)
def test_malformed_or_unsigned_bodies_are_refused(
    client: FlaskClient, db: Database, body: bytes
) -> None:
    assert post(client, body).status_code in (400, 403)
    assert counts(db) == (0, 0)
