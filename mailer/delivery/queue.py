"""Mail a request asks for, queued for the delivery workers.

A public sign-up's confirmation and an admin's test send used to be handed to the relay
inside the request's transaction: on SQLite that held the database's write lock for as
long as the relay took, and a slow relay made every other writer fail. Now the request
stores the finished message here and commits at once; the workers (``mailer run``,
``mailer worker``, ``mailer worker --once``) claim these rows under a lease exactly as
they claim deliveries, send them, retry temporary failures with backoff and record
permanent ones. Once a message is sent or given up on its bytes are emptied: only the
outcome is kept. Erasure scrubs the address from every row (``scrub_queued``, listed in
mailer.personal_data).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.orm import Session

from mailer.config import Config
from mailer.database import Database, rows_changed
from mailer.delivery.models import FAILED, QUEUED, SENDING, SENT, QueuedMessage, SendingSwitch
from mailer.delivery.transport import STAGE_AUTH, STAGE_CONNECT, Transport, TransportError

log = logging.getLogger(__name__)

CLAIM_BATCH = 20
ERASED = "[erased]"


def enqueue(
    session: Session,
    *,
    kind: str,
    sender: str,
    recipient: str,
    data: bytes,
    now: datetime,
    bulletin_id: int | None = None,
) -> QueuedMessage:
    """Queue one finished message; a worker sends it (the caller commits)."""
    message = QueuedMessage(
        kind=kind,
        sender=sender,
        recipient=recipient,
        recipient_key=recipient.casefold(),
        data=data,
        state=QUEUED,
        attempts=0,
        next_attempt_at=now,
        lease_owner="",
        last_reply="",
        created_at=now,
        bulletin_id=bulletin_id,
    )
    session.add(message)
    session.flush()
    return message


def recent_tests(session: Session, bulletin_id: int, *, limit: int = 10) -> list[QueuedMessage]:
    """A bulletin's latest test sends, newest first, for its page."""
    return list(
        session.scalars(
            select(QueuedMessage)
            .where(QueuedMessage.bulletin_id == bulletin_id)
            .order_by(QueuedMessage.id.desc())
            .limit(limit)
        )
    )


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        (QueuedMessage.state == QUEUED) & (QueuedMessage.next_attempt_at <= now),
        (QueuedMessage.state == SENDING) & (QueuedMessage.lease_until < now),
    )


_stopped = select(SendingSwitch.stopped).where(SendingSwitch.id == 1)


def claim(db: Database, *, owner: str, config: Config, now: datetime) -> list[QueuedMessage]:
    """Due rows (and rows whose worker died), leased to ``owner`` in one short write."""
    # Asked by every worker thread every second or so: a plain read first, so an empty
    # queue costs no write transaction (on SQLite, no turn at the write lock).
    with db.engine.connect() as connection:
        if connection.execute(select(QueuedMessage.id).where(_due(now)).limit(1)).first() is None:
            return []
        # "Stop all sending" means all: an incident may be the relay or the sender's
        # reputation, so confirmations and test sends wait for the restart too.
        if connection.execute(_stopped).scalar():
            return []
    query = select(QueuedMessage.id).where(_due(now)).order_by(QueuedMessage.id).limit(CLAIM_BATCH)
    if not db.is_sqlite:
        query = query.with_for_update(skip_locked=True)
    session = db.new_session()
    try:
        with db.write_lock, db.transaction(session):
            if db.is_sqlite:
                session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            ids = list(session.scalars(query))
            if not ids:
                return []
            session.execute(
                update(QueuedMessage)
                .where(QueuedMessage.id.in_(ids))
                .values(
                    state=SENDING,
                    lease_owner=owner,
                    lease_until=now + config.smtp.lease,
                    attempts=QueuedMessage.attempts + 1,
                )
            )
            rows = list(
                session.scalars(
                    select(QueuedMessage)
                    .where(QueuedMessage.id.in_(ids))
                    .order_by(QueuedMessage.id)
                    .execution_options(populate_existing=True)
                )
            )
            session.expunge_all()
            return rows
    finally:
        session.close()


def drain(
    db: Database,
    config: Config,
    *,
    transport: Transport,
    owner: str,
    clock: Callable[[], datetime],
) -> int:
    """Send every queued message that is due; returns how many went."""
    sent = 0
    while batch := claim(db, owner=owner, config=config, now=clock()):
        unusable: TransportError | None = None
        for message in batch:
            try:
                if unusable is not None:
                    raise unusable
                # A one-off message (a proof, a sign-up confirmation) has no delivery
                # row for a VERP token to name: its envelope sender stays the From
                # address it was queued with, so a bounce goes back to a person.
                reply = transport.send(
                    sender=message.sender, recipient=message.recipient, data=message.data
                )
            except TransportError as exc:
                if exc.stage in (STAGE_CONNECT, STAGE_AUTH):
                    # The relay cannot be used at all: the same answer for the rest of
                    # the batch rather than the same timeout once per message.
                    unusable = exc
                _failed(db, config, message, exc, owner=owner, now=clock())
                continue
            _record(db, message, owner=owner, state=SENT, last_reply=reply, sent_at=clock())
            sent += 1
    return sent


def _failed(
    db: Database,
    config: Config,
    message: QueuedMessage,
    exc: TransportError,
    *,
    owner: str,
    now: datetime,
) -> None:
    from mailer.delivery.worker import backoff  # the workers' backoff, shared

    reply = str(exc)
    if exc.temporary:
        give_up = (
            message.attempts >= config.smtp.max_attempts
            or now - message.created_at >= config.smtp.retry_for
        )
        if not give_up:
            _record(
                db,
                message,
                owner=owner,
                state=QUEUED,
                last_reply=reply,
                next_attempt_at=now + backoff(message.attempts),
            )
            return
        reply = f"gave up after {message.attempts} attempts: {reply}"
    log.warning("queued %s message %s not sent: %s", message.kind, message.id, reply)
    _record(db, message, owner=owner, state=FAILED, last_reply=reply, next_attempt_at=None)


def _record(db: Database, message: QueuedMessage, *, owner: str, **values: object) -> None:
    """Commit one outcome while the row is still ours (a taken-over lease records nothing)."""
    values = {"lease_owner": "", "lease_until": None, **values}
    if values["state"] in (SENT, FAILED):
        values["data"] = b""  # the outcome is what is kept, not a copy of the message
    with db.writing() as session:
        changed = rows_changed(
            session,
            update(QueuedMessage)
            .where(
                QueuedMessage.id == message.id,
                QueuedMessage.state == SENDING,
                QueuedMessage.lease_owner == owner,
            )
            .values(**values),
        )
        if changed != 1:
            log.warning("queued message %s: lease lost before its outcome was recorded", message.id)


def purge(session: Session, *, now: datetime, keep: timedelta) -> int:
    """[retention]: finished queued messages older than ``keep`` go (they name a person)."""
    return rows_changed(
        session,
        delete(QueuedMessage).where(
            QueuedMessage.state.in_((SENT, FAILED)), QueuedMessage.created_at < now - keep
        ),
    )


def scrub_queued(session: Session, contact_id: int, email: str) -> None:
    """Erasure: the address leaves every queued message, and what was not sent never is."""
    pattern = re.compile(re.escape(email), re.IGNORECASE)
    for message in session.scalars(
        select(QueuedMessage).where(QueuedMessage.recipient_key == email.casefold())
    ):
        if message.state in (QUEUED, SENDING):
            message.state = FAILED
            message.last_reply = "not sent: the address was erased"
            message.lease_owner = ""
            message.lease_until = None
            message.next_attempt_at = None
        message.recipient = ""
        message.recipient_key = ""
        message.data = b""
        message.last_reply = pattern.sub(ERASED, message.last_reply)
