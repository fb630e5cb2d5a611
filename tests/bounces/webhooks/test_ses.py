"""Amazon SES notifications through SNS: the signature, certificate host, topic and
time checked as AWS documents; bounces and complaints acted on."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from contacts.models import ACTIVE, BOUNCED, UNSUBSCRIBED
from mailer.app import create_app
from mailer.bounces import webhook_views
from mailer.bounces.webhooks import ses
from mailer.bounces.webhooks.common import Refused
from mailer.database import Database
from mailer.delivery import sends
from mailer.delivery.models import BOUNCED as DELIVERY_BOUNCED
from mailer.delivery.models import SENT
from tests.bounces.webhooks.conftest import NOW, PEOPLE, TOPIC, Sent, counts, person
from tests.bounces.webhooks.sns import SUBSCRIBE_URL, SnsSigner, ses_bounce, ses_complaint
from tests.conftest import make_config

URL = "/webhooks/ses"
ANN, BOB, CAT = PEOPLE


def post(client: FlaskClient, envelope: dict[str, Any] | str | bytes) -> Any:
    body = envelope if isinstance(envelope, str | bytes) else json.dumps(envelope)
    kind = envelope.get("Type", "") if isinstance(envelope, dict) else ""
    return client.post(
        URL,
        data=body,
        headers={"Content-Type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": kind},
    )


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_signed_permanent_bounce_suppresses_and_marks_the_delivery_bounced(
    client: FlaskClient, db: Database, sent: Sent, sns: SnsSigner, version: str
) -> None:
    message = ses_bounce(ANN, message_id=sent.message_ids[ANN])
    response = post(client, sns.envelope(message, topic=TOPIC, at=NOW, version=version))

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json is not None and response.json["recorded"] == 1
    ann = person(db, ANN)
    assert (ann.status, ann.suppressed, ann.delivery_state) == (BOUNCED, True, DELIVERY_BOUNCED)
    assert person(db, BOB).status == ACTIVE
    with db.transaction() as session:
        progress = sends.progress(session, sent.send_id)
    assert (progress.sent, progress.bounced) == (2, 1)
    assert sns.source.fetched and all(
        "sns.eu-west-2.amazonaws.com" in u for u in sns.source.fetched
    )


def test_a_transient_bounce_is_counted_not_suppressed(
    client: FlaskClient, db: Database, sent: Sent, sns: SnsSigner
) -> None:
    message = ses_bounce(BOB, message_id=sent.message_ids[BOB], bounce_type="Transient")
    assert post(client, sns.envelope(message, topic=TOPIC, at=NOW)).status_code == 200
    bob = person(db, BOB)
    assert (bob.status, bob.suppressed, bob.delivery_state) == (ACTIVE, False, SENT)
    assert counts(db)[0] == 1


def test_a_complaint_unsubscribes(
    client: FlaskClient, db: Database, sent: Sent, sns: SnsSigner
) -> None:
    message = ses_complaint(CAT, message_id=sent.message_ids[CAT])
    response = post(client, sns.envelope(message, topic=TOPIC, at=NOW, subject="Complaint"))
    assert response.status_code == 200, response.get_data(as_text=True)
    cat = person(db, CAT)
    assert (cat.status, cat.suppressed) == (UNSUBSCRIBED, True)


def test_the_event_publishing_shape_is_read_too(
    client: FlaskClient, db: Database, sent: Sent, sns: SnsSigner
) -> None:
    message = ses_bounce(ANN, message_id=sent.message_ids[ANN], event=True)
    assert post(client, sns.envelope(message, topic=TOPIC, at=NOW)).status_code == 200
    assert person(db, ANN).status == BOUNCED
    delivery = {"eventType": "Delivery", "mail": {}, "delivery": {"recipients": [BOB]}}
    response = post(client, sns.envelope(delivery, topic=TOPIC, at=NOW))
    assert response.status_code == 200 and response.json is not None
    assert response.json["ignored"] == 1 and person(db, BOB).status == ACTIVE


def test_a_bounce_without_our_message_id_is_matched_by_the_signed_address(
    client: FlaskClient, db: Database, sent: Sent, sns: SnsSigner
) -> None:
    message = ses_bounce(ANN, message_id="<0102017abc@eu-west-2.amazonses.com>")
    assert post(client, sns.envelope(message, topic=TOPIC, at=NOW)).status_code == 200
    assert person(db, ANN).delivery_state == DELIVERY_BOUNCED


def test_unsigned_tampered_and_replayed_messages_change_nothing(
    client: FlaskClient, db: Database, sent: Sent, sns: SnsSigner
) -> None:
    signed = sns.envelope(ses_bounce(ANN, message_id=sent.message_ids[ANN]), topic=TOPIC, at=NOW)
    unsigned = {k: v for k, v in signed.items() if k != "Signature"}
    assert post(client, unsigned).status_code == 403
    tampered = dict(signed, Message=json.dumps(ses_bounce(BOB, message_id="<x@y>")))
    assert post(client, tampered).status_code == 403
    assert counts(db) == (0, 0)
    assert person(db, ANN).status == ACTIVE and person(db, BOB).status == ACTIVE

    assert post(client, signed).status_code == 200
    assert counts(db) == (1, 1)
    replay = post(client, signed)
    assert replay.status_code == 409
    assert "replay" in replay.get_data(as_text=True)
    assert counts(db) == (1, 1)


def test_a_message_signed_too_long_ago_is_refused(
    client: FlaskClient, db: Database, sent: Sent, sns: SnsSigner
) -> None:
    message = ses_bounce(ANN, message_id=sent.message_ids[ANN])
    old = sns.envelope(message, topic=TOPIC, at=NOW - timedelta(minutes=6))
    response = post(client, old)
    assert response.status_code == 403
    assert "too long ago" in response.get_data(as_text=True)
    assert person(db, ANN).status == ACTIVE and counts(db) == (0, 0)


@pytest.mark.parametrize(
    "cert_url",
    [
        "https://attacker.example.org/SimpleNotificationService-0000test.pem",
        "https://sns.eu-west-2.amazonaws.com.attacker.example.org/cert.pem",
        "http://sns.eu-west-2.amazonaws.com/SimpleNotificationService-0000test.pem",
        "https://sns.eu-west-2.amazonaws.com:8443/SimpleNotificationService-0000test.pem",
        "https://user@sns.eu-west-2.amazonaws.com/SimpleNotificationService-0000test.pem",
        "https://sns.eu-west-2.amazonaws.com/some/other/path.pem",
        "https://sns.eu-west-2.amazonaws.com/SimpleNotificationService-0000test.pem?x=1",
    ],
)
def test_a_certificate_elsewhere_is_refused_without_fetching_it(
    client: FlaskClient, db: Database, sent: Sent, sns: SnsSigner, cert_url: str
) -> None:
    message = ses_bounce(ANN, message_id=sent.message_ids[ANN])
    response = post(client, sns.envelope(message, topic=TOPIC, at=NOW, cert_url=cert_url))
    assert response.status_code == 403
    assert sns.source.fetched == []
    assert person(db, ANN).status == ACTIVE


def test_another_topic_is_refused(
    client: FlaskClient, db: Database, sent: Sent, sns: SnsSigner
) -> None:
    message = ses_bounce(ANN, message_id=sent.message_ids[ANN])
    other = "arn:aws:sns:eu-west-2:999999999999:someone-elses"
    response = post(client, sns.envelope(message, topic=other, at=NOW))
    assert response.status_code == 403
    assert "ses_topic_arns" in response.get_data(as_text=True)
    assert sns.source.fetched == [] and person(db, ANN).status == ACTIVE


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe",
        b"[]",
        b"null",
        b'{"Type": 7}',
        b'{"Type": "Notification"}',
        b'{"Type": "Something"}',
        json.dumps({"Type": "Notification", "Message": {"a": 1}, "MessageId": "1"}).encode(),
        b"[" * 5000 + b"]" * 5000,
    ],
)
def test_malformed_messages_are_400_never_500(
    client: FlaskClient, db: Database, body: bytes
) -> None:
    assert post(client, body).status_code == 400


@pytest.mark.parametrize(
    "message",
    [
        "plain text published to the topic",
        {"notificationType": "Bounce", "bounce": {"bouncedRecipients": "everyone"}},
        {"notificationType": "Bounce", "bounce": {"bouncedRecipients": [{"emailAddress": 5}]}},
        {"notificationType": "Complaint", "complaint": None},
        {"notificationType": ["Bounce"]},
    ],
)
def test_a_signed_message_that_is_not_an_ses_notification_is_400(
    client: FlaskClient, db: Database, sns: SnsSigner, message: Any
) -> None:
    response = post(client, sns.envelope(message, topic=TOPIC, at=NOW))
    assert response.status_code == 400
    assert counts(db) == (0, 0)


def test_a_subscription_is_confirmed_through_the_sns_host_once(
    client: FlaskClient, db: Database, sns: SnsSigner
) -> None:
    confirmation = sns.envelope(
        "You have chosen to subscribe to the topic.",
        topic=TOPIC,
        at=NOW,
        kind="SubscriptionConfirmation",
        SubscribeURL=SUBSCRIBE_URL,
        Token="2336412f37",
    )
    assert post(client, confirmation).status_code == 200
    assert sns.source.got == [SUBSCRIBE_URL]
    assert post(client, confirmation).status_code == 409
    assert sns.source.got == [SUBSCRIBE_URL]


def test_a_subscribe_url_elsewhere_is_never_fetched(
    client: FlaskClient, db: Database, sns: SnsSigner
) -> None:
    confirmation = sns.envelope(
        "You have chosen to subscribe to the topic.",
        topic=TOPIC,
        at=NOW,
        kind="SubscriptionConfirmation",
        SubscribeURL="https://attacker.example.org/?Action=ConfirmSubscription",
        Token="2336412f37",
    )
    assert post(client, confirmation).status_code == 403
    assert sns.source.got == [] and sns.source.fetched == []


def test_the_real_source_is_installed_and_fetches_only_from_sns(
    tmp_path: Path, db: Database
) -> None:
    real = create_app(make_config(tmp_path, db.url))
    try:
        source = real.extensions[webhook_views.CERTIFICATES]
        assert isinstance(source, ses.HttpsCertificates)
        for url in ("https://attacker.example.org/x.pem", "file:///etc/passwd"):
            with pytest.raises(Refused):
                source.certificate(url)
            with pytest.raises(Refused):
                source.get(url)
    finally:
        real.extensions["mailer.db"].dispose()
