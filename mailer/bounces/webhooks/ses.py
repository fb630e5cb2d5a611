"""Amazon SES bounce and complaint notifications, delivered by Amazon SNS.

SNS signs every message it posts; the signature is checked exactly as AWS documents
("Verifying the signatures of Amazon SNS messages"): the message's fields in a fixed
order make the string to sign, SignatureVersion 1 is SHA1withRSA and 2 SHA256withRSA,
and the public key is in the X.509 certificate at SigningCertURL. That URL is refused
unless it is https on an SNS host (``sns.<region>.amazonaws.com``) before anything is
fetched, so a forged message cannot name a certificate of its own. The topic must be
one of ``[bounces] ses_topic_arns``.

The network is reached through a :class:`CertificateSource` (the certificate, and the
SubscribeURL that confirms a subscription); tests give one holding a certificate they
made, and the verification is the same code either way.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import threading
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mailer.bounces.models import COMPLAINT, HARD, SOFT, SOURCE_SES
from mailer.bounces.reports import REPORT_BOUNCE, REPORT_COMPLAINT, Failure, Report
from mailer.bounces.webhooks import common
from mailer.bounces.webhooks.common import Verified, forbidden, malformed

log = logging.getLogger(__name__)

NOTIFICATION = "Notification"
SUBSCRIPTION_CONFIRMATION = "SubscriptionConfirmation"
UNSUBSCRIBE_CONFIRMATION = "UnsubscribeConfirmation"

# The fields signed, in the order AWS documents; Subject only when the message has one.
_SIGNED_FIELDS = {
    NOTIFICATION: ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    SUBSCRIPTION_CONFIRMATION: (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
_SIGNED_FIELDS[UNSUBSCRIBE_CONFIRMATION] = _SIGNED_FIELDS[SUBSCRIPTION_CONFIRMATION]
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}
_SNS_HOST = re.compile(r"sns\.[a-z0-9]+(?:-[a-z0-9]+)+\.amazonaws\.com")
# SNS's certificates are published as /SimpleNotificationService-<hex>.pem: nothing else
# on the host is fetched for a message, however it is signed.
_CERT_PATH = re.compile(r"/SimpleNotificationService-[A-Za-z0-9]{1,64}\.pem")

FETCH_TIMEOUT = 5.0  # seconds: SNS waits 15 s for the answer, and retries
MAX_CERTIFICATE = 64 * 1024


class Unavailable(Exception):
    """The certificate, or the subscription's confirmation, could not be fetched."""


class CertificateSource(Protocol):
    """Where SNS certificates come from, and how a subscription is confirmed."""

    def certificate(self, url: str) -> x509.Certificate:
        """The certificate at ``url`` (already checked to be an SNS address)."""
        ...

    def get(self, url: str) -> None:
        """GET ``url`` (already checked to be an SNS address): confirms a subscription."""
        ...


class HttpsCertificates:
    """The real source: HTTPS with the system's CA certificates, a short timeout, each
    certificate fetched once per process (SNS uses one for months)."""

    def __init__(self, *, timeout: float = FETCH_TIMEOUT) -> None:
        self.timeout = timeout
        self._cache: dict[str, x509.Certificate] = {}
        self._lock = threading.Lock()

    def certificate(self, url: str) -> x509.Certificate:
        with self._lock:
            cached = self._cache.get(url)
        if cached is not None:
            return cached
        data = self._fetch(url, limit=MAX_CERTIFICATE)
        try:
            certificate = x509.load_pem_x509_certificate(data)
        except ValueError:
            raise Unavailable(f"{url} did not give a PEM certificate") from None
        with self._lock:
            self._cache[url] = certificate
        return certificate

    def get(self, url: str) -> None:
        self._fetch(url, limit=MAX_CERTIFICATE)

    def _fetch(self, url: str, *, limit: int) -> bytes:
        check_sns_url(url, what="address")  # never anything else, whoever calls
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:  # noqa: S310
                data: bytes = response.read(limit + 1)
        except (OSError, ValueError) as exc:
            raise Unavailable(f"{url}: {exc}") from None
        if len(data) > limit:
            raise Unavailable(f"{url} answered with more than {limit} bytes")
        return data


@dataclass(frozen=True)
class Envelope:
    """An SNS message whose signature, topic and time were checked."""

    type: str
    message_id: str
    topic_arn: str
    message: str
    subscribe_url: str = ""


def check_sns_url(url: str, *, what: str) -> str:
    """``url`` if it is https on an SNS host; refused (403) otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise forbidden(f"The {what} is not an Amazon SNS address.") from None
    if (
        parts.scheme != "https"
        or parts.username is not None
        or parts.password is not None
        or port not in (None, 443)
        or not _SNS_HOST.fullmatch(parts.hostname or "")
    ):
        raise forbidden(f"The {what} is not an Amazon SNS address.")
    return url


def verify(
    body: bytes,
    *,
    topics: Sequence[str],
    source: CertificateSource,
    now: datetime,
    tolerance: timedelta,
    message_type: str = "",
) -> Envelope:
    """The SNS message in ``body``, verified; :class:`~common.Refused` otherwise, and
    :class:`Unavailable` when its certificate cannot be fetched. ``message_type`` is
    the x-amz-sns-message-type header, when sent."""
    fields = common.obj(common.load_json(body, what="SNS message"), what="SNS message")
    kind = common.text(fields.get("Type"), what="Type", required=True)
    if kind not in _SIGNED_FIELDS:
        raise malformed(f"Type {kind[:40]!r} is not an SNS message type.")
    if message_type and message_type != kind:
        raise malformed("The x-amz-sns-message-type header does not match the Type.")
    signed = {
        name: common.text(fields.get(name), what=name, required=name != "Subject")
        for name in _SIGNED_FIELDS[kind]
    }
    if signed["TopicArn"] not in topics:
        raise forbidden(f"Topic {signed['TopicArn'][:200]!r} is not in [bounces] ses_topic_arns.")
    algorithm = _HASHES.get(common.text(fields.get("SignatureVersion"), what="SignatureVersion"))
    if algorithm is None:
        raise forbidden("The SignatureVersion is missing or not 1 or 2.")
    cert_url = check_sns_url(
        common.text(fields.get("SigningCertURL"), what="SigningCertURL"), what="SigningCertURL"
    )
    if not _CERT_PATH.fullmatch(urlsplit(cert_url).path) or urlsplit(cert_url).query:
        raise forbidden("The SigningCertURL is not an SNS signing certificate.")
    try:
        signature = base64.b64decode(
            common.text(fields.get("Signature"), what="Signature"), validate=True
        )
    except (binascii.Error, ValueError):
        raise forbidden("The Signature is not base64.") from None
    if not signature:
        raise forbidden("The message is not signed.")
    common.check_fresh(_timestamp(signed["Timestamp"]), now=now, tolerance=tolerance)
    if kind != NOTIFICATION:
        check_sns_url(signed["SubscribeURL"], what="SubscribeURL")
    key = source.certificate(cert_url).public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise forbidden("The signing certificate does not hold an RSA key.")
    to_sign = "".join(
        f"{name}\n{value}\n"
        for name, value in signed.items()
        if name != "Subject" or isinstance(fields.get("Subject"), str)
    )
    try:
        key.verify(signature, to_sign.encode("utf-8"), padding.PKCS1v15(), algorithm())
    except InvalidSignature:
        raise forbidden("The SNS signature does not match the message.") from None
    return Envelope(
        type=kind,
        message_id=signed["MessageId"],
        topic_arn=signed["TopicArn"],
        message=signed["Message"],
        subscribe_url=signed.get("SubscribeURL", ""),
    )


def _timestamp(value: str) -> datetime:
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        raise malformed("The Timestamp is not an ISO 8601 time.") from None
    if stamp.tzinfo is None:
        raise malformed("The Timestamp has no time zone.")
    return stamp


def notification(envelope: Envelope) -> Verified:
    """The reports in a verified Notification: an SES bounce or complaint notification,
    or an SES event-publishing record (eventType in place of notificationType)."""
    message = common.obj(
        common.load_json(envelope.message.encode(), what="Message"), what="Message"
    )
    kind = common.text(
        message.get("notificationType") or message.get("eventType"), what="notificationType"
    )
    mail = common.obj(message.get("mail") or {}, what="mail")
    found_id = _message_id(mail)
    if kind == "Bounce":
        bounce = common.obj(message.get("bounce"), what="bounce")
        report = _bounce(bounce, message_id=found_id, fallback=envelope.message_id)
    elif kind == "Complaint":
        complaint = common.obj(message.get("complaint"), what="complaint")
        report = _complaint(complaint, message_id=found_id, fallback=envelope.message_id)
    else:
        log.info(
            "SES %s notification %s: nothing to do", kind[:40] or "unnamed", envelope.message_id
        )
        return Verified(receipt_key=envelope.message_id, ignored=1)
    return Verified(receipt_key=envelope.message_id, reports=(report,))


def _bounce(bounce: dict[str, Any], *, message_id: str, fallback: str) -> Report:
    bounce_type = common.text(bounce.get("bounceType"), what="bounceType")
    kind = HARD if bounce_type == "Permanent" else SOFT  # Transient, Undetermined
    sub_type = common.text(bounce.get("bounceSubType"), what="bounceSubType")
    failures = []
    for entry in common.items(bounce.get("bouncedRecipients"), what="bouncedRecipients"):
        recipient = common.obj(entry, what="bounced recipient")
        diagnostic = common.text(recipient.get("diagnosticCode"), what="diagnosticCode")
        failures.append(
            Failure(
                address=common.address(recipient.get("emailAddress"), what="emailAddress"),
                kind=kind,
                status=common.text(recipient.get("status"), what="status")[:20],
                diagnostic=diagnostic or f"{bounce_type} bounce ({sub_type})".strip(),
            )
        )
    return Report(
        kind=REPORT_BOUNCE,
        source=SOURCE_SES,
        fingerprint=common.text(bounce.get("feedbackId"), what="feedbackId") or fallback,
        failures=tuple(failures),
        message_id=message_id,
        trusted=True,
        detail=f"SES {bounce_type or 'Undetermined'} bounce",
    )


def _complaint(complaint: dict[str, Any], *, message_id: str, fallback: str) -> Report:
    feedback = common.text(complaint.get("complaintFeedbackType"), what="complaintFeedbackType")
    failures = tuple(
        Failure(
            address=common.address(
                common.obj(entry, what="complained recipient").get("emailAddress"),
                what="emailAddress",
            ),
            kind=COMPLAINT,
            diagnostic=f"Complaint ({feedback})" if feedback else "Complaint",
        )
        for entry in common.items(
            complaint.get("complainedRecipients"), what="complainedRecipients"
        )
    )
    return Report(
        kind=REPORT_COMPLAINT,
        source=SOURCE_SES,
        fingerprint=common.text(complaint.get("feedbackId"), what="feedbackId") or fallback,
        failures=failures,
        message_id=message_id,
        trusted=True,
        detail="SES complaint",
    )


def _message_id(mail: dict[str, Any]) -> str:
    """Our Message-ID, as the original message's headers carried it (SES gives its own
    unless the headers were passed through; one that is not ours simply matches no
    delivery, and the signed address is used instead)."""
    for header in common.items(mail.get("headers"), what="mail.headers"):
        fields = common.obj(header, what="mail header")
        if common.text(fields.get("name"), what="header name").lower() == "message-id":
            return common.message_id(common.text(fields.get("value"), what="header value"))
    common_headers = common.obj(mail.get("commonHeaders") or {}, what="commonHeaders")
    return common.message_id(common.text(common_headers.get("messageId"), what="messageId"))
