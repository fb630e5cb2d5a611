"""Webhook endpoints: made, changed, switched on and off and deleted by an admin, each
step audited, each refusal a sentence.

The signing secret is the Standard Webhooks format, ``whsec_`` + base64 of 32 random
bytes. It must be readable again (to sign every message) but must not sit in the
database as it is: it is sealed under a key derived from the app's secret key
(``mailer.accounts.second_factors.sealing``), as authenticator keys are.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mailer.accounts.models import User
from mailer.accounts.second_factors.sealing import KeyRing
from mailer.audit import actions, record
from mailer.config.sections import WebhooksSection
from mailer.events import addresses, catalogue
from mailer.events.models import FAILED, PENDING, WebhookEndpoint, WebhookMessage

log = logging.getLogger(__name__)

SEAL_PURPOSE = "webhook signing secret"
MAX_NAME = 100
TEST_EVENT = "webhook.test"  # sent from the admin only; no endpoint subscribes to it


SWITCHED_OFF = (
    "This endpoint is switched off, so nothing is sent to it: switch it on first "
    "(its messages given up can then be retried)."
)


class SwitchedOff(ValueError):
    """Asked to send to an endpoint switched off; the sentence a person reads."""

    def __init__(self) -> None:
        super().__init__(SWITCHED_OFF)


class EndpointRefused(ValueError):
    """The form's errors: field name -> the sentence shown beside it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class EndpointForm:
    name: str
    url: str
    events: tuple[str, ...] = field(default_factory=tuple)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def secret_of(endpoint: WebhookEndpoint, ring: KeyRing) -> str:
    """The endpoint's signing secret, unsealed (SealBroken if the app's key changed
    and the old one is not in ``[app] old_secret_keys``)."""
    return ring.unseal(endpoint.secret, purpose=SEAL_PURPOSE)


def _checked(
    form: EndpointForm, settings: WebhooksSection, resolver: addresses.Resolver
) -> EndpointForm:
    errors: dict[str, str] = {}
    name = " ".join(form.name.split())
    if not name:
        errors["name"] = "Enter a name, such as the system it feeds (\u201cCRM\u201d)."
    elif len(name) > MAX_NAME:
        errors["name"] = f"The name is too long: at most {MAX_NAME} characters."
    try:
        addresses.check(form.url, allow_private=settings.allow_private_addresses, resolver=resolver)
    except addresses.UrlRefused as exc:
        errors["url"] = str(exc)
    events = tuple(dict.fromkeys(form.events))
    unknown = catalogue.unknown(events)
    if unknown:
        errors["events"] = f"Unknown event: {', '.join(unknown)}."
    elif not events:
        errors["events"] = "Choose at least one event for this endpoint."
    if errors:
        raise EndpointRefused(errors)
    return EndpointForm(name=name, url=form.url.strip(), events=events)


def create(
    session: Session,
    form: EndpointForm,
    *,
    settings: WebhooksSection,
    ring: KeyRing,
    by: User,
    now: datetime,
    resolver: addresses.Resolver = addresses.system_resolver,
) -> WebhookEndpoint:
    form = _checked(form, settings, resolver)
    endpoint = WebhookEndpoint(
        name=form.name,
        url=form.url,
        secret=ring.seal(new_secret(), purpose=SEAL_PURPOSE),
        events=" ".join(form.events),
        enabled=True,
        created_at=now,
        created_by_id=by.id,
        disabled_reason="",
    )
    session.add(endpoint)
    session.flush()
    record(
        session,
        actions.WEBHOOK_CREATED,
        actor=by,
        target_type="webhook_endpoint",
        target_id=endpoint.id,
        summary=f"Webhook endpoint \u201c{endpoint.name}\u201d added",
        detail={"url": endpoint.url, "events": list(form.events)},
    )
    log.info("webhook endpoint %s added by user %s", endpoint.id, by.id)
    return endpoint


def change(
    session: Session,
    endpoint: WebhookEndpoint,
    form: EndpointForm,
    *,
    settings: WebhooksSection,
    by: User,
    resolver: addresses.Resolver = addresses.system_resolver,
) -> None:
    form = _checked(form, settings, resolver)
    before = {"name": endpoint.name, "url": endpoint.url, "events": endpoint.events.split()}
    endpoint.name, endpoint.url, endpoint.events = form.name, form.url, " ".join(form.events)
    record(
        session,
        actions.WEBHOOK_CHANGED,
        actor=by,
        target_type="webhook_endpoint",
        target_id=endpoint.id,
        summary=f"Webhook endpoint \u201c{endpoint.name}\u201d changed",
        detail={"before": before, "url": form.url, "events": list(form.events)},
    )


def enable(session: Session, endpoint: WebhookEndpoint, *, by: User) -> bool:
    """Switch it on again; its failure window starts afresh. False if it was on."""
    if endpoint.enabled:
        return False
    endpoint.enabled = True
    endpoint.failing_since = None
    endpoint.disabled_at = None
    endpoint.disabled_reason = ""
    record(
        session,
        actions.WEBHOOK_ENABLED,
        actor=by,
        target_type="webhook_endpoint",
        target_id=endpoint.id,
        summary=f"Webhook endpoint \u201c{endpoint.name}\u201d enabled",
    )
    return True


def disable(
    session: Session,
    endpoint: WebhookEndpoint,
    *,
    reason: str,
    now: datetime,
    by: User | None = None,
) -> int:
    """Switch it off; its waiting messages are given up. How many were."""
    endpoint.enabled = False
    endpoint.disabled_at = now
    endpoint.disabled_reason = reason[:500]
    given_up = give_up_pending(session, endpoint.id, why=reason)
    record(
        session,
        actions.WEBHOOK_DISABLED,
        actor=by,
        target_type="webhook_endpoint",
        target_id=endpoint.id,
        summary=f"Webhook endpoint \u201c{endpoint.name}\u201d disabled: {reason}",
        detail={"messages_given_up": given_up},
    )
    log.warning("webhook endpoint %s disabled (%s); %d given up", endpoint.id, reason, given_up)
    return given_up


def give_up_pending(session: Session, endpoint_id: int, *, why: str) -> int:
    result = session.execute(
        update(WebhookMessage)
        .where(WebhookMessage.endpoint_id == endpoint_id, WebhookMessage.state == PENDING)
        .values(state=FAILED, claimed_until=None)
        # "fetch": rows already loaded in this session (a dispatcher recording a
        # batch) see that they were given up.
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def delete(session: Session, endpoint: WebhookEndpoint, *, by: User) -> None:
    """The endpoint goes with its messages and their log."""
    record(
        session,
        actions.WEBHOOK_DELETED,
        actor=by,
        target_type="webhook_endpoint",
        target_id=endpoint.id,
        summary=f"Webhook endpoint \u201c{endpoint.name}\u201d deleted",
        detail={"url": endpoint.url},
    )
    session.delete(endpoint)
    session.flush()


def rotate_secret(session: Session, endpoint: WebhookEndpoint, *, ring: KeyRing, by: User) -> None:
    """A new signing secret; messages not yet sent are signed with it."""
    endpoint.secret = ring.seal(new_secret(), purpose=SEAL_PURPOSE)
    record(
        session,
        actions.WEBHOOK_SECRET_ROTATED,
        actor=by,
        target_type="webhook_endpoint",
        target_id=endpoint.id,
        summary=f"Signing secret of webhook endpoint \u201c{endpoint.name}\u201d replaced",
    )


def send_test(
    session: Session, endpoint: WebhookEndpoint, *, by: User, now: datetime
) -> WebhookMessage:
    """Queue a ``webhook.test`` message for this endpoint alone. Refused while it is
    switched off (SwitchedOff): nothing at all is sent to an endpoint that is off, and
    a new endpoint starts switched on."""
    if not endpoint.enabled:
        raise SwitchedOff()
    body = json.dumps(
        {
            "type": TEST_EVENT,
            "timestamp": now.isoformat().replace("+00:00", "Z"),
            "data": {"endpoint_id": endpoint.id, "note": "A test sent from the admin."},
        },
        separators=(",", ":"),
        sort_keys=True,
    )
    message = WebhookMessage(
        endpoint_id=endpoint.id,
        message_id="msg_" + secrets.token_urlsafe(18),
        event_type=TEST_EVENT,
        payload=body,
        state=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(message)
    session.flush()
    record(
        session,
        actions.WEBHOOK_TEST_SENT,
        actor=by,
        target_type="webhook_endpoint",
        target_id=endpoint.id,
        summary=f"Test event queued for webhook endpoint \u201c{endpoint.name}\u201d",
    )
    return message


def retry_now(session: Session, message: WebhookMessage, *, by: User, now: datetime) -> None:
    """Try a pending or failed message again at once (a delivered one stays).
    Refused while its endpoint is switched off (SwitchedOff): real events must not go
    to a receiver someone switched off."""
    endpoint = session.get(WebhookEndpoint, message.endpoint_id)
    if endpoint is None or not endpoint.enabled:
        raise SwitchedOff()
    if message.state == PENDING or message.state == FAILED:
        message.state = PENDING
        message.next_attempt_at = now
        message.claimed_until = None
        record(
            session,
            actions.WEBHOOK_RETRIED,
            actor=by,
            target_type="webhook_message",
            target_id=message.id,
            summary=f"Webhook message {message.message_id} to be tried again now",
        )


def admin_page(base_url: str, endpoint_id: int) -> str:
    """The endpoint's admin page, for an email written outside a request (the workers
    have no ``url_for``); ``tests/events/test_views.py`` checks it matches the route."""
    return f"{base_url.rstrip('/')}/admin/webhooks/{endpoint_id}"


def all_endpoints(session: Session) -> list[WebhookEndpoint]:
    return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.name)))
