"""The signed webhooks mail providers post bounces and complaints to.

No sign-in and no CSRF token (the provider's signature stands in for both; only these
routes are exempt), POST only, bodies up to MAX_BODY. A provider that is not configured
answers 404 like any unknown address, so nothing tells a visitor which are in use.
Answers: 200 with a short JSON summary; 400 malformed; 403 unsigned, wrongly signed,
from another topic, or signed longer ago than ``[bounces] webhook_tolerance``; 409 a
request already received; 413 too large; 503 when SNS's certificate cannot be fetched
(SNS tries again). Each refusal is logged with its reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Flask, abort, current_app, jsonify, request
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import RequestEntityTooLarge

from contacts import tokens
from mailer import public_urls
from mailer.bounces import processing
from mailer.bounces.models import SOURCE_MAILGUN, SOURCE_SENDGRID, SOURCE_SES
from mailer.bounces.webhooks import mailgun, receipts, recording, sendgrid, ses
from mailer.bounces.webhooks.common import CONFLICT, UNAVAILABLE, Refused, Verified
from mailer.config import Config
from mailer.database import get_db
from mailer.web.security import clock, csrf

log = logging.getLogger(__name__)
T = TypeVar("T")
webhooks_bp = Blueprint("webhooks", __name__)
csrf.exempt(webhooks_bp)

# Where the SNS certificates come from (app.extensions; tests put their own there).
CERTIFICATES = "mailer.sns_certificates"
# A provider's batch is a few kilobytes to a few hundred; nothing honest is larger.
MAX_BODY = 1024 * 1024


def _init(state: BlueprintSetupState) -> None:
    state.app.extensions.setdefault(CERTIFICATES, ses.HttpsCertificates())


webhooks_bp.record_once(_init)


def certificates(app: Flask) -> ses.CertificateSource:
    source: ses.CertificateSource = app.extensions[CERTIFICATES]
    return source


def _config() -> Config:
    config: Config = current_app.config["MAILER"]
    return config


def _answer(status: int, **payload: Any) -> ResponseReturnValue:
    response = jsonify(payload)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(provider: str, refusal: Refused) -> ResponseReturnValue:
    log.warning(
        "%s webhook refused (%s) from %s: %s",
        provider,
        refusal.status,
        request.remote_addr,
        refusal.reason,
    )
    return _answer(refusal.status, error=refusal.reason)


def _body() -> bytes | None:
    """The raw body, or None when it is over MAX_BODY."""
    if (request.content_length or 0) > MAX_BODY:
        return None
    request.max_content_length = MAX_BODY
    try:
        data = request.get_data(cache=True)
    except RequestEntityTooLarge:  # a longer stream than it said
        return None
    return None if len(data) > MAX_BODY else data


class _Stop(Exception):
    """The answer to a request refused before anything was recorded."""

    def __init__(self, response: ResponseReturnValue) -> None:
        super().__init__()
        self.response = response


def _verify(provider: str, check: Callable[[bytes], T]) -> T:
    """``check`` applied to the body: the signature first, nothing recorded yet, and
    outside any transaction (SNS's certificate may have to be fetched)."""
    body = _body()
    if body is None:
        log.warning("%s webhook refused (413): over %s bytes", provider, MAX_BODY)
        raise _Stop(_answer(413, error=f"The request is larger than {MAX_BODY} bytes."))
    try:
        return check(body)
    except Refused as refusal:
        raise _Stop(_refused(provider, refusal)) from None
    except ses.Unavailable as exc:
        log.warning("%s webhook not verified (503): %s", provider, exc)
        raise _Stop(
            _answer(UNAVAILABLE, error="The signing certificate could not be fetched.")
        ) from None


def _record(provider: str, verified: Verified) -> ResponseReturnValue:
    """The receipt and the reports, in one transaction."""
    config = _config()
    db = get_db()
    try:
        with db.transaction(db.session) as session:
            summary = recording.apply(
                session,
                verified,
                provider=provider,
                limits=processing.Limits.from_config(
                    config, keys=tokens.secret_keys(current_app.config)
                ),
                now=clock(),
                tolerance=config.bounces.webhook_tolerance,
            )
    except Refused as refusal:
        return _refused(provider, refusal)
    except IntegrityError:  # the same request, recorded meanwhile by another worker
        return _refused(provider, Refused(CONFLICT, "This request was already received."))
    log.info("%s webhook: %s", provider, summary.describe())
    return _answer(200, result=summary.describe(), **summary.as_dict())


@webhooks_bp.post(public_urls.WEBHOOK_SES)
def ses_webhook() -> ResponseReturnValue:
    settings = _config().bounces
    if not settings.ses_topic_arns:
        abort(404)
    source = certificates(current_app)

    def check(body: bytes) -> Verified:
        envelope = ses.verify(
            body,
            topics=settings.ses_topic_arns,
            source=source,
            now=clock(),
            tolerance=settings.webhook_tolerance,
            message_type=request.headers.get("x-amz-sns-message-type", ""),
        )
        if envelope.type == ses.SUBSCRIPTION_CONFIRMATION:
            _confirm(source, envelope)
        elif envelope.type == ses.UNSUBSCRIBE_CONFIRMATION:
            log.warning("SNS topic %s no longer sends here (unsubscribed)", envelope.topic_arn)
        else:
            return ses.notification(envelope)
        return Verified(receipt_key=envelope.message_id)

    try:
        verified = _verify(SOURCE_SES, check)
    except _Stop as stop:
        return stop.response
    return _record(SOURCE_SES, verified)


def _confirm(source: ses.CertificateSource, envelope: ses.Envelope) -> None:
    """Confirm a subscription by fetching its SubscribeURL (checked to be on an SNS
    host by ses.verify), once: a replayed confirmation fetches nothing."""
    # A session of its own, closed before the fetch: the request's session would hold
    # SQLite's write lock (a POST begins IMMEDIATE) while SNS answers.
    peek = get_db().new_session()
    try:
        replay = receipts.seen(peek, provider=SOURCE_SES, key=envelope.message_id)
    finally:
        peek.close()
    if replay:
        raise Refused(CONFLICT, "This request was already received: it is a replay.")
    try:
        source.get(envelope.subscribe_url)
    except ses.Unavailable as exc:
        log.warning("SNS subscription to %s not confirmed: %s", envelope.topic_arn, exc)
        raise _Stop(
            _answer(UNAVAILABLE, error="The subscription could not be confirmed.")
        ) from None
    log.info("SNS subscription to %s confirmed", envelope.topic_arn)


@webhooks_bp.post(public_urls.WEBHOOK_SENDGRID)
def sendgrid_webhook() -> ResponseReturnValue:
    settings = _config().bounces
    if not settings.sendgrid_public_key:
        abort(404)
    try:
        key = sendgrid.public_key(settings.sendgrid_public_key)
    except sendgrid.KeyUnusable as exc:
        log.error("sendgrid webhook cannot verify anything: %s", exc)
        return _answer(UNAVAILABLE, error="This webhook cannot be used at the moment.")
    try:
        verified = _verify(
            SOURCE_SENDGRID,
            lambda body: sendgrid.verify(
                body,
                signature=request.headers.get(sendgrid.SIGNATURE_HEADER, ""),
                timestamp=request.headers.get(sendgrid.TIMESTAMP_HEADER, ""),
                key=key,
                now=clock(),
                tolerance=settings.webhook_tolerance,
            ),
        )
    except _Stop as stop:
        return stop.response
    return _record(SOURCE_SENDGRID, verified)


@webhooks_bp.post(public_urls.WEBHOOK_MAILGUN)
def mailgun_webhook() -> ResponseReturnValue:
    settings = _config().bounces
    if not settings.mailgun_signing_key:
        abort(404)
    try:
        verified = _verify(
            SOURCE_MAILGUN,
            lambda body: mailgun.verify(
                body,
                signing_key=settings.mailgun_signing_key,
                now=clock(),
                tolerance=settings.webhook_tolerance,
            ),
        )
    except _Stop as stop:
        return stop.response
    return _record(SOURCE_MAILGUN, verified)
