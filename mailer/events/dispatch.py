"""Delivering queued webhook messages: claim under a lease, sign, POST, log the attempt.

The queue is durable, as the delivery of mail is (``mailer/delivery/worker.py``): a
claim marks a batch of due messages as this dispatcher's until ``claimed_until`` in one
short transaction (FOR UPDATE SKIP LOCKED on PostgreSQL, so dispatchers pass over each
other's rows; an immediate transaction on SQLite, so the claim's write cannot fail
half-way). The outcome is written only while the claim is still ours, so two
dispatchers never record one message twice, and a dispatcher that dies leaves claims
that run out and are taken again: a crash loses nothing (at most a message in flight
goes twice, under the same ``webhook-id``, which is what the receiver dedups on).

A message that is not answered 2xx is retried on the specification's schedule. An
endpoint that has answered nothing but failures for ``[webhooks] failure_window`` is
disabled and its waiting messages given up; ``run_once`` returns the endpoints it
disabled, and the delivery side (which may import this package, not the reverse)
emails the admins.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from mailer.accounts.second_factors.sealing import KeyRing, SealBroken
from mailer.config.sections import WebhooksSection
from mailer.database import Database, utcnow
from mailer.events import addresses, endpoints, posting, signing
from mailer.events.models import (
    DELIVERED,
    FAILED,
    PENDING,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookMessage,
)

log = logging.getLogger(__name__)

# The Standard Webhooks schedule: after the first failure wait 5 s, then 5 min, ...
# After the last wait's attempt fails too, the message is given up.
SCHEDULE = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
LEASE_MARGIN = timedelta(seconds=30)
BATCH = 20


def retry_delay(attempts: int, *, rng: random.Random) -> timedelta | None:
    """How long to wait after the ``attempts``-th failed attempt (None: give up), with
    up to 10% jitter so a receiver's recovery is not met by every retry at once."""
    if attempts > len(SCHEDULE):
        return None
    base = SCHEDULE[attempts - 1]
    return base + base * 0.1 * rng.random()


@dataclass(frozen=True)
class Disabled:
    """An endpoint this round disabled, for the admins' email."""

    endpoint_id: int
    name: str
    url: str
    failing_since: datetime
    last_answer: str


@dataclass
class Round:
    delivered: int = 0
    failed: int = 0  # attempts that failed (retried or given up)
    disabled: list[Disabled] = field(default_factory=list)


def _span(value: timedelta) -> str:
    """A length of time in words, to the hour (a failure window is hours or days)."""
    hours = int(value.total_seconds() // 3600)
    amount, unit = (
        (hours // 24, "day")
        if hours >= 48
        else (hours, "hour")
        if hours
        else (max(1, int(value.total_seconds() // 60)), "minute")
    )
    return f"{amount} {unit}{'' if amount == 1 else 's'}"


@dataclass(frozen=True)
class _Claimed:
    id: int
    endpoint_id: int
    message_id: str
    payload: str
    lease: datetime
    url: str
    secret: str


class Dispatcher:
    def __init__(
        self,
        db: Database,
        settings: WebhooksSection,
        ring: KeyRing,
        *,
        clock: Callable[[], datetime] = utcnow,
        wall_clock: Callable[[], datetime] = utcnow,
        resolver: addresses.Resolver = addresses.system_resolver,
        rng: random.Random | None = None,
        batch: int = BATCH,
    ) -> None:
        self.db = db
        self.settings = settings
        self.ring = ring
        self.clock = clock  # when messages fall due and endpoints fail (tests drive it)
        self.wall_clock = wall_clock  # the signature's timestamp (receivers check it)
        self.resolver = resolver
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not a secret)
        self.batch = batch
        # A claim lasts as long as a batch can take to time out, and a margin.
        self.lease = settings.timeout * batch + LEASE_MARGIN
        self._secrets: dict[str, str] = {}

    # --- claiming ---------------------------------------------------------------------

    def _due(self, now: datetime) -> ColumnElement[bool]:
        # Switching off gives up what waits, but a message may be left pending (one
        # claimed meanwhile, a retry, a row written by hand): an endpoint that is off
        # is sent nothing at all.
        switched_on = (
            select(WebhookEndpoint.id)
            .where(WebhookEndpoint.id == WebhookMessage.endpoint_id, WebhookEndpoint.enabled)
            .exists()
        )
        return (
            (WebhookMessage.state == PENDING)
            & (WebhookMessage.next_attempt_at <= now)
            & or_(WebhookMessage.claimed_until.is_(None), WebhookMessage.claimed_until < now)
            & switched_on
        )

    def claim(self) -> list[_Claimed]:
        now = self.clock()
        due = self._due(now)
        # Asked by every worker loop: a plain read first, so an empty queue costs no
        # write transaction (on SQLite, no turn at the write lock).
        with self.db.engine.connect() as connection:
            if connection.execute(select(WebhookMessage.id).where(due).limit(1)).first() is None:
                return []
        query = (
            select(WebhookMessage.id)
            .where(due)
            .order_by(WebhookMessage.next_attempt_at, WebhookMessage.id)
            .limit(self.batch)
        )
        if not self.db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        lease = now + self.lease
        session = self.db.new_session()
        try:
            with self.db.write_lock, self.db.transaction(session):
                if self.db.is_sqlite:
                    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
                ids = list(session.scalars(query))
                if not ids:
                    return []
                session.execute(
                    update(WebhookMessage)
                    .where(WebhookMessage.id.in_(ids))
                    .values(claimed_until=lease)
                    .execution_options(synchronize_session=False)
                )
                rows = session.execute(
                    select(
                        WebhookMessage.id,
                        WebhookMessage.endpoint_id,
                        WebhookMessage.message_id,
                        WebhookMessage.payload,
                        WebhookEndpoint.url,
                        WebhookEndpoint.secret,
                    )
                    .join(WebhookEndpoint, WebhookEndpoint.id == WebhookMessage.endpoint_id)
                    .where(WebhookMessage.id.in_(ids))
                    .order_by(WebhookMessage.id)
                ).all()
                return [
                    _Claimed(r.id, r.endpoint_id, r.message_id, r.payload, lease, r.url, r.secret)
                    for r in rows
                ]
        finally:
            session.close()

    # --- sending ----------------------------------------------------------------------

    def _attempt(self, message: _Claimed) -> posting.Answer:
        try:
            target = addresses.check(
                message.url,
                allow_private=self.settings.allow_private_addresses,
                resolver=self.resolver,
            )
        except addresses.UrlRefused as exc:
            return posting.Answer(None, "", f"not sent: {exc}"[:500], 0)
        try:
            secret = self._secret(message.secret)
        except SealBroken:
            return posting.Answer(
                None, "", "not sent: the signing secret cannot be opened (the app's secret "
                "key changed); rotate the endpoint's secret", 0,
            )  # fmt: skip
        headers = signing.headers(
            secret=secret, message_id=message.message_id, at=self.wall_clock(), body=message.payload
        )
        return posting.post(
            target,
            body=message.payload.encode("utf-8"),
            headers=headers,
            timeout=self.settings.timeout.total_seconds(),
        )

    def _secret(self, sealed: str) -> str:
        """The unsealed secret, kept by its sealed form (a rotation makes a new one):
        deriving the key and opening the seal for every message would cost more than
        signing it."""
        secret = self._secrets.get(sealed)
        if secret is None:
            secret = self._secrets[sealed] = self.ring.unseal(
                sealed, purpose=endpoints.SEAL_PURPOSE
            )
        return secret

    def deliver(self, claimed: list[_Claimed]) -> Round:
        """Send the batch, then record every outcome in one transaction: a commit per
        message would cost more than the POST itself. A crash in between sends the
        batch again once its claim runs out, under the same ``webhook-id``s."""
        answers = [(message, self._attempt(message), self.clock()) for message in claimed]
        outcome = Round()
        with self.db.writing() as session:
            for message, answer, at in answers:
                self._record(session, message, answer, at, outcome)
        return outcome

    def run_once(self) -> Round:
        """Deliver every message now due; what happened."""
        total = Round()
        while batch := self.claim():
            done = self.deliver(batch)
            total.delivered += done.delivered
            total.failed += done.failed
            total.disabled += done.disabled
        return total

    # --- recording --------------------------------------------------------------------

    def _record(
        self,
        session: Session,
        message: _Claimed,
        answer: posting.Answer,
        now: datetime,
        outcome: Round,
    ) -> None:
        """One attempt's outcome, if the claim is still ours (else another dispatcher
        took the message over after our lease ran out, and records its own)."""
        row = session.get(WebhookMessage, message.id)
        if row is None or row.claimed_until != message.lease or row.state != PENDING:
            log.warning("webhook message %s: claim lost before its outcome", message.id)
            return
        endpoint = session.get(WebhookEndpoint, message.endpoint_id)
        if endpoint is None:
            return
        session.add(
            WebhookAttempt(
                message_id=row.id,
                endpoint_id=endpoint.id,
                at=now,
                status_code=answer.status,
                response=answer.excerpt,
                error=answer.error,
                duration_ms=answer.duration_ms,
            )
        )
        row.attempts += 1
        row.claimed_until = None
        if answer.ok:
            row.state, row.delivered_at = DELIVERED, now
            endpoint.failing_since = None
            outcome.delivered += 1
            return
        outcome.failed += 1
        log.info(
            "webhook message %s to endpoint %s, attempt %d: %s",
            row.message_id, endpoint.id, row.attempts, answer.error,
        )  # fmt: skip
        if endpoint.failing_since is None:
            endpoint.failing_since = now
        if endpoint.enabled and now - endpoint.failing_since >= self.settings.failure_window:
            # Still pending here, so the endpoint's audit entry counts it among those
            # given up (disabling gives up every pending message, this one too).
            outcome.disabled.append(self._disable(session, endpoint, answer, now))
            row.state = FAILED
            return
        delay = retry_delay(row.attempts, rng=self.rng)
        if delay is None:
            row.state = FAILED
        else:
            row.next_attempt_at = now + delay

    def _disable(
        self, session: Session, endpoint: WebhookEndpoint, answer: posting.Answer, now: datetime
    ) -> Disabled:
        since = endpoint.failing_since or now
        last = answer.error + (f": {answer.excerpt[:300]}" if answer.excerpt else "")
        # No time in the words: the page says when, in the office's timezone.
        reason = f"nothing delivered for {_span(now - since)}; last answer: {answer.error}"
        endpoints.disable(session, endpoint, reason=reason, now=now)
        return Disabled(endpoint.id, endpoint.name, endpoint.url, since, last[:500])
