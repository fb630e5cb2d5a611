"""Amazon SNS as the tests play it: an RSA key and a self-signed certificate made here,
messages signed as AWS documents, and a certificate source that hands out that
certificate instead of fetching it (the only part of the real path replaced)."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

CERT_URL = "https://sns.eu-west-2.amazonaws.com/SimpleNotificationService-0000test.pem"
SUBSCRIBE_URL = (
    "https://sns.eu-west-2.amazonaws.com/?Action=ConfirmSubscription"
    "&TopicArn=arn:aws:sns:eu-west-2:123456789012:ses-bounces&Token=2336412f37"
)


def self_signed(key: rsa.RSAPrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    start = datetime(2027, 1, 1, tzinfo=UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )


class FakeSource:
    """Hands out the test certificate for CERT_URL; notes every URL asked for."""

    def __init__(self, certificate: x509.Certificate) -> None:
        self._certificate = certificate
        self.fetched: list[str] = []
        self.got: list[str] = []

    def reset(self) -> None:
        self.fetched.clear()
        self.got.clear()

    def certificate(self, url: str) -> x509.Certificate:
        self.fetched.append(url)
        if url != CERT_URL:
            raise AssertionError(f"the test source has no certificate at {url}")
        return self._certificate

    def get(self, url: str) -> None:
        self.got.append(url)


SIGNED = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}


class SnsSigner:
    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.certificate = self_signed(self.key)
        self.source = FakeSource(self.certificate)

    def envelope(
        self,
        message: dict[str, Any] | str,
        *,
        topic: str,
        at: datetime,
        kind: str = "Notification",
        version: str = "1",
        cert_url: str = CERT_URL,
        subject: str | None = None,
        **extra: str,
    ) -> dict[str, Any]:
        """An SNS message in the JSON SNS posts, signed with the test key."""
        fields: dict[str, Any] = {
            "Type": kind,
            "MessageId": str(uuid.uuid4()),
            "TopicArn": topic,
            "Message": message if isinstance(message, str) else json.dumps(message),
            "Timestamp": at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "SignatureVersion": version,
            "SigningCertURL": cert_url,
            **extra,
        }
        if subject is not None:
            fields["Subject"] = subject
        if kind == "Notification":
            fields["UnsubscribeURL"] = (
                "https://sns.eu-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x"
            )
        fields["Signature"] = self.sign(fields, version=version)
        return fields

    def sign(self, fields: dict[str, Any], *, version: str) -> str:
        names = SIGNED[
            "Notification" if fields["Type"] == "Notification" else "SubscriptionConfirmation"
        ]
        text = "".join(f"{name}\n{fields[name]}\n" for name in names if name in fields)
        # SignatureVersion 1 is SHA1withRSA: SNS still signs so, and it must verify.
        algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()  # noqa: S303
        signature = self.key.sign(text.encode("utf-8"), padding.PKCS1v15(), algorithm)
        return base64.b64encode(signature).decode()


def ses_bounce(
    address: str, *, message_id: str, bounce_type: str = "Permanent", event: bool = False
) -> dict[str, Any]:
    """An SES bounce notification, shaped as the SES developer guide shows it."""
    kind = {"eventType": "Bounce"} if event else {"notificationType": "Bounce"}
    return {
        **kind,
        "bounce": {
            "bounceType": bounce_type,
            "bounceSubType": "General",
            "bouncedRecipients": [
                {
                    "emailAddress": address,
                    "action": "failed",
                    "status": "5.1.1" if bounce_type == "Permanent" else "4.4.7",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
            "timestamp": "2027-07-21T09:59:58.000Z",
            "feedbackId": f"0102017{uuid.uuid4().hex}-000000",
            "reportingMTA": "dsn; a8-70.smtp-out.amazonses.com",
        },
        "mail": _mail(address, message_id),
    }


def ses_complaint(address: str, *, message_id: str) -> dict[str, Any]:
    return {
        "notificationType": "Complaint",
        "complaint": {
            "userAgent": "ExampleCorp Feedback Loop (V0.01)",
            "complainedRecipients": [{"emailAddress": address}],
            "complaintFeedbackType": "abuse",
            "arrivalDate": "2027-07-21T09:59:50.000Z",
            "timestamp": "2027-07-21T09:59:58.000Z",
            "feedbackId": f"0102017{uuid.uuid4().hex}-000000",
        },
        "mail": _mail(address, message_id),
    }


def _mail(address: str, message_id: str) -> dict[str, Any]:
    return {
        "timestamp": "2027-07-21T09:59:00.000Z",
        "source": "news@pcc.example.org",
        "sourceArn": "arn:aws:ses:eu-west-2:123456789012:identity/pcc.example.org",
        "sendingAccountId": "123456789012",
        "messageId": "0102017abcdef-00000000-0000-0000-0000-000000000000-000000",
        "destination": [address],
        "headersTruncated": False,
        "headers": [
            {"name": "From", "value": "Northshire PCC <news@pcc.example.org>"},
            {"name": "To", "value": address},
            {"name": "Message-ID", "value": message_id},
            {"name": "Subject", "value": "Stakeholder Special: news"},
        ],
        "commonHeaders": {
            "from": ["Northshire PCC <news@pcc.example.org>"],
            "to": [address],
            "messageId": message_id,
            "subject": "Stakeholder Special: news",
        },
    }
