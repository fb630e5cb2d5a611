"""Workers: claim due deliveries under a lease, render, send, record each outcome.

A claim marks a batch of rows "sending" with this worker's name and a lease expiry, in
one short transaction (FOR UPDATE SKIP LOCKED on PostgreSQL, so workers never wait on
each other; BEGIN IMMEDIATE on SQLite, so the claim's write cannot fail half-way). The
contact is checked again at that moment: someone who unsubscribed since the send
began is skipped. Each outcome is committed on its own, and only while the row is still
this worker's: a worker that stalled past its lease finds its rows taken over and
records nothing. A worker that dies leaves "sending" rows whose lease runs out; the
next claim takes them. At most the messages in flight at the crash go twice, with the
same Message-ID.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from contacts.models import ACTIVE
from mailer.bulletins import messages
from mailer.config import Config
from mailer.database import Database, utcnow
from mailer.delivery import bounces, claims, queue, sends, switch, throttle, verp
from mailer.delivery.models import (
    FAILED,
    QUEUED,
    SEND_CANCELLED,
    SEND_SENDING,
    SENDING,
    SKIP_CANCELLED,
    SKIP_ERASED,
    SKIPPED,
    Delivery,
    Send,
    SendingSwitch,
)
from mailer.delivery.outcomes import SentWriter, sent_writer
from mailer.delivery.prepared import Prepared, PreparedSends, SendUnusable
from mailer.delivery.recipients import Claimed, first_lists, recipient_for
from mailer.delivery.transport import STAGE_RCPT, Transport, TransportError
from mailer.public_urls import PublicUrls
from mailer.rendering.prepare import Recipient

log = logging.getLogger(__name__)

STATE_CHECK_SECONDS = 1.0
switch_off = select(SendingSwitch.stopped).where(SendingSwitch.id == 1)
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=2)


def backoff(attempts: int, *, rng: random.Random = random._inst) -> timedelta:
    """How long to wait after the ``attempts``-th failure: doubling from a minute, at
    most two hours, with jitter so a relay's recovery is not met by every retry at once."""
    ceiling = min(BACKOFF_FIRST * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)
    return ceiling / 2 + ceiling / 2 * rng.random()


def batch_limit(config: Config, wanted: int) -> int:
    """A batch this worker can finish well inside its lease. With a rate limit shared by
    every connection, a batch takes ``size x connections / rate`` seconds; it must not
    outlast the lease, or another worker would take over rows still being sent."""
    rate = config.smtp.rate_per_second
    if not rate:
        return wanted
    seconds = config.smtp.lease.total_seconds() / 2  # half: room for slow replies
    return max(1, min(wanted, int(seconds * rate / max(config.smtp.connections, 1))))


class Worker:
    def __init__(
        self,
        db: Database,
        config: Config,
        *,
        transport: Transport,
        secret_keys: list[str],
        name: str | None = None,
        batch_size: int = 200,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
        prepared: PreparedSends | None = None,
        writer: SentWriter | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.transport = transport
        self.secret_keys = secret_keys
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self.batch_size = batch_size
        self._batch = batch_limit(config, batch_size)
        self.clock = clock
        self.sleep = sleep
        # When a relay cap (per hour or day) is used up: when to look again.
        self.capped_until: datetime | None = None
        self.settings = messages.settings_from(config)
        # With [bounces] address, each message's envelope sender (where its bounce goes)
        # carries its delivery's signed token (VERP); else the From address.
        self.envelope_senders = (
            verp.EnvelopeSenders(config.bounces.address, keys=secret_keys)
            if config.bounces.address
            else None
        )
        self.urls = PublicUrls(self.settings.base_url)
        # One driver connection kept for the per-message writes: checking one out of
        # the pool and back (with its reset) each time would cost as much as the write.
        # On SQLite the process's threads share one (pool.workers).
        self.sent_writer = writer or sent_writer(db.engine, lock=db.write_lock)
        # The send's message, prepared once per process (pool.workers shares it).
        self.prepared = prepared or PreparedSends(
            db, self.settings, clock=clock, per_person=config.tracking.per_person
        )
        self._states: dict[int, tuple[float, str | None]] = {}
        self._sql = claims.statements(sqlite=db.is_sqlite)
        self._touched: set[int] = set()  # sends worked on since the last finish check
        self._drained = False  # the last claim took every due row there was

    # --- claiming ---------------------------------------------------------------------

    def claim(self) -> list[Claimed]:
        """A batch of due rows, leased to this worker; empty when nothing is due."""
        while True:
            claimed, chosen = self._claim_once()
            if claimed or not chosen:
                return claimed
            # Every row chosen was skipped (their people left since the send began):
            # look again rather than report an empty queue.

    def _claim_once(self) -> tuple[list[Claimed], int]:
        """The batch, and how many rows were chosen for it (skipped ones included)."""
        now = self.clock()
        self._states.clear()  # a send's state is cached within one batch only
        self._drained = True
        session = self.db.new_session()
        try:
            with self.db.write_lock, self.db.transaction(session):
                if self.db.is_sqlite:
                    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
                if switch.is_stopped(session):
                    return [], 0
                room, self.capped_until = throttle.allowance(session, self.config.smtp, now)
                if room == 0:
                    return [], 0
                limit = min(self._batch, room) if room is not None else self._batch
                ids = self._due(session, now, limit)
                # A short batch: nothing else was due, so the send may end with it.
                self._drained = len(ids) < limit
                if not ids:
                    return [], 0
                connection = session.connection()
                connection.execute(
                    self._sql.lease,
                    {"ids": ids, "owner": self.name, "until": now + self.config.smtp.lease},
                )
                claimed: list[Claimed] = []
                gone: dict[str, list[int]] = {}
                for row in connection.execute(self._sql.rows, {"ids": ids}):
                    if row.contact_id is None or row.status != ACTIVE:
                        # Checked again now: an unsubscribe since the send began counts.
                        reason = SKIP_ERASED if row.contact_id is None else row.status
                        gone.setdefault(sends._skip_reason(reason) or reason, []).append(row.id)
                        continue
                    # The columns are in Claimed's order, not_before aside.
                    claimed.append(Claimed._make((*row[:10], None, row.share_code, row.link_key)))
                for reason, skipped in gone.items():
                    session.execute(
                        update(Delivery)
                        .where(Delivery.id.in_(skipped))
                        .values(
                            state=SKIPPED,
                            skip_reason=reason,
                            lease_owner="",
                            lease_until=None,
                            next_attempt_at=None,
                        )
                    )
                slots = throttle.reserve(session, self.config.smtp, len(claimed), now)
                if slots:
                    claimed = [
                        c._replace(not_before=t) for c, t in zip(claimed, slots, strict=True)
                    ]
                return claimed, len(ids)
        finally:
            session.close()

    def _due(self, session: Session, now: datetime, limit: int) -> list[int]:
        """Up to ``limit`` rows to claim: those whose lease ran out (a worker died),
        then queued rows in the order they fell due. Two queries, not one with OR: each
        walks the (state, next_attempt_at, id) index and stops at the limit, where an
        OR would sort every queued row of a large send on every claim."""
        # The running sends as values, not a subquery: the planner then knows how many
        # rows each has and reads the index in order rather than sorting them all.
        sending = list(session.scalars(select(Send.id).where(Send.state == SEND_SENDING)))
        if not sending:
            return []
        connection = session.connection()
        values = {"sending": sending, "now": now, "limit": limit}
        ids = list(connection.scalars(self._sql.expired, values))
        if len(ids) < limit:
            ids += connection.scalars(self._sql.queued, {**values, "limit": limit - len(ids)})
        return ids

    # --- rendering --------------------------------------------------------------------

    def _recipient(self, row: Claimed, prepared: Prepared, lists: dict[int, int]) -> Recipient:
        return recipient_for(
            row,
            prepared,
            urls=self.urls,
            keys=self.secret_keys,
            list_id=lists.get(row.contact_id),
            bounce_address=self.config.bounces.address,
        )

    def _first_lists(self, claimed: list[Claimed]) -> dict[int, dict[int, int]]:
        """Per send of the batch: each contact's first audience list (its List-Id),
        one query per send named in the batch, not one per message."""
        by_send: dict[int, list[Claimed]] = {}
        for row in claimed:
            by_send.setdefault(row.send_id, []).append(row)
        found: dict[int, dict[int, int]] = {}
        for send_id, rows in by_send.items():
            try:
                lists = list(self.prepared.get(send_id).lists)
            except SendUnusable:
                continue  # process() pauses it
            if lists:
                with self.db.engine.connect() as connection:
                    found[send_id] = first_lists(connection, rows, lists)
        return found

    # --- sending ----------------------------------------------------------------------

    def process(self, claimed: list[Claimed], stop: threading.Event | None = None) -> int:
        """Send each claimed row and record its outcome; returns how many were sent.
        When ``stop`` is set (SIGTERM), the rows not yet begun are handed back at once
        rather than kept until the lease runs out."""
        sent = 0
        stopped: set[int] = set()  # sends paused during this batch
        lists = self._first_lists(claimed)
        for row in claimed:
            if row.send_id in stopped or (stop is not None and stop.is_set()):
                self._release(row)
                continue
            state = self._send_state(row.send_id)
            if state == SEND_CANCELLED:
                # Cancelled in the admin since the claim: this row will never go.
                self._record(row, state=SKIPPED, skip_reason=SKIP_CANCELLED,
                             next_attempt_at=None, attempts=row.attempts - 1)  # fmt: skip
                continue
            if state != SEND_SENDING:
                # Paused since the claim: stop within a second, keep the row for later.
                stopped.add(row.send_id)
                self._release(row)
                continue
            try:
                prepared = self.prepared.get(row.send_id)
            except SendUnusable as exc:
                self._pause(row.send_id, str(exc))
                stopped.add(row.send_id)
                self._release(row)
                continue
            data = prepared.message.personalise(
                self._recipient(row, prepared, lists.get(row.send_id, {})),
                message_id=row.message_id,
                now=self.clock(),
            )
            if row.not_before is not None:
                wait = (row.not_before - self.clock()).total_seconds()
                if wait > 0:
                    self.sleep(wait)
            try:
                reply = self.transport.send(
                    sender=self.settings.sender.from_address
                    if self.envelope_senders is None
                    else self.envelope_senders(row.id, row.send_id),
                    recipient=row.address,
                    data=data,
                    # The last message's outcome is committed before this one is handed
                    # over: never more than one sent and unrecorded per connection.
                    before_data=self.sent_writer.settle,
                )
            except TransportError as exc:
                if not exc.temporary and exc.stage != STAGE_RCPT:
                    # The relay refuses us, not this recipient: stop, keep the row.
                    self._pause(row.send_id, f"The mail relay refused the send: {exc}")
                    stopped.add(row.send_id)
                    self._release(row)
                else:
                    self._failed(row, exc)
                continue
            self._record_sent(row, reply)
            sent += 1
        self.sent_writer.settle()
        self._touched.update(r.send_id for r in claimed)
        if self._drained:
            self._finish()
        return sent

    def _send_state(self, send_id: int) -> str | None:
        """The send's state, read at most once a second per send (cheap enough to ask
        before every message, fresh enough that a pause takes effect at once)."""
        now = time.monotonic()
        known = self._states.get(send_id)
        if known is not None and now - known[0] < STATE_CHECK_SECONDS:
            return known[1]
        with self.db.engine.connect() as connection:
            row = connection.execute(
                select(Send.state, switch_off.scalar_subquery()).where(Send.id == send_id)
            ).first()
        # The stop switch counts as a pause of every send.
        state = None if row is None else (switch.STOPPED if row[1] else row[0])
        self._states[send_id] = (now, state)
        return state

    def _record_sent(self, row: Claimed, reply: str) -> None:
        """The hot path of _record: one prepared UPDATE in its own short transaction,
        without the ORM (a send of 20,000 commits 20,000 times). On PostgreSQL its
        commit is waited for just before the next message is handed over."""
        self.sent_writer.record(
            delivery_id=row.id, send_id=row.send_id, owner=self.name, reply=reply,
            at=self.clock(),
        )  # fmt: skip

    def _record(self, row: Claimed, **values: object) -> bool:
        """Commit one outcome if the row is still ours; False if the lease was lost."""
        values = {"lease_owner": "", "lease_until": None, **values}
        with self.db.transaction() as session:
            result = session.execute(
                update(Delivery)
                .where(
                    Delivery.id == row.id,
                    Delivery.state == SENDING,
                    Delivery.lease_owner == self.name,
                )
                .values(**values)
            )
            if cast(CursorResult[Any], result).rowcount != 1:
                log.warning(
                    "delivery %s (send %s): lease lost before its outcome was recorded",
                    row.id,
                    row.send_id,
                )
                return False
            if values.get("hard_bounce"):
                bounces.record_hard_bounce(
                    session,
                    contact_id=row.contact_id,
                    send_id=row.send_id,
                    reply=str(values.get("last_reply", "")),
                    limit=self.config.smtp.hard_bounce_limit,
                    now=self.clock(),
                )
        return True

    def _failed(self, row: Claimed, exc: TransportError) -> None:
        now = self.clock()
        reply = str(exc)
        if exc.temporary:
            give_up = (
                row.attempts >= self.config.smtp.max_attempts
                or now - row.created_at >= self.config.smtp.retry_for
            )
            if not give_up:
                delay = backoff(row.attempts)
                log.info(
                    "delivery %s (send %s) to retry in %ds after attempt %d: %s",
                    row.id,
                    row.send_id,
                    delay.total_seconds(),
                    row.attempts,
                    reply,
                )
                self._record(row, state=QUEUED, last_reply=reply, next_attempt_at=now + delay)
                return
            reply = f"gave up after {row.attempts} attempts: {reply}"
        hard = not exc.temporary and bounces.is_hard_bounce(exc.code, exc.reply)
        log.warning("delivery %s (send %s) failed: %s", row.id, row.send_id, reply)
        self._record(row, state=FAILED, last_reply=reply, next_attempt_at=None, hard_bounce=hard)

    def _release(self, row: Claimed) -> None:
        """Give a claimed row back untried (its attempt does not count)."""
        self._record(row, state=QUEUED, attempts=row.attempts - 1)

    def _pause(self, send_id: int, reason: str) -> None:
        with self.db.writing() as session:
            send = session.get(Send, send_id)
            if send is not None and send.state == SEND_SENDING:
                sends.pause(session, send, reason=reason)
        self.prepared.forget(send_id)

    def _finish(self) -> None:
        """End the sends this worker has worked on that have nothing left to do. Asked
        after a short batch or an empty claim, not after every batch: while a full
        batch was due, its send cannot have ended, and the worker that takes the last
        rows (or finds none left) finishes it."""
        send_ids, self._touched = self._touched, set()
        for send_id in send_ids:
            if self._has_work_left(send_id):
                continue  # the usual case, answered without counting every row
            # Read, then write: on SQLite that needs BEGIN IMMEDIATE (Database.writing).
            with self.db.writing() as session:
                send = session.get(Send, send_id)
                if send is None:
                    continue
                if send.state == SEND_CANCELLED:
                    # Rows this batch handed back after a cancel must not wait forever.
                    sends.skip_queued(session, send)
                sends.finish_if_done(session, send, now=self.clock())

    def _has_work_left(self, send_id: int) -> bool:
        """A running send with a row still queued or being sent: nothing to finish."""
        left = (
            select(Delivery.id)
            .where(Delivery.send_id == send_id, Delivery.state.in_((QUEUED, SENDING)))
            .limit(1)
        )
        with self.db.engine.connect() as connection:
            row = connection.execute(
                select(Send.state, left.scalar_subquery()).where(Send.id == send_id)
            ).first()
        return row is not None and row[0] == SEND_SENDING and row[1] is not None

    def _close_connection(self) -> None:
        self.sent_writer.close()

    # --- loops ------------------------------------------------------------------------

    def drain_queue(self) -> int:
        """Send the mail requests queued (sign-up confirmations, test sends)."""
        return queue.drain(
            self.db, self.config, transport=self.transport, owner=self.name, clock=self.clock
        )

    def run_once(self) -> int:
        """Work until nothing is due; returns how many messages were sent."""
        total = 0
        try:
            total += self.drain_queue()
            while batch := self.claim():
                total += self.process(batch)
                total += self.drain_queue()
            self._finish()
        finally:
            self.transport.close()
            self._close_connection()
        return total

    def run(self, stop: threading.Event, *, idle: float = 1.0) -> None:
        log.info("worker %s started", self.name)
        while not stop.is_set():
            try:
                # Between batches, so a confirmation waits at most one batch of a send.
                self.drain_queue()
                batch = self.claim()
                if batch:
                    self.process(batch, stop)
                    continue
                self._finish()
                self.transport.close()  # do not hold a relay connection while idle
                self._close_connection()
            except Exception:
                log.exception("worker %s: unexpected error; carrying on", self.name)
            stop.wait(idle)
        self.transport.close()
        self._close_connection()
        log.info("worker %s stopped", self.name)


def secret_keys_for(config: Config) -> list[str]:
    """The keys links are signed with, as the web app has them (contacts.tokens)."""
    from mailer.instance import secret_key

    return [secret_key(config), *config.app.old_secret_keys]
