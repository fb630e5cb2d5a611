"""Sends: from an approved bulletin to one delivery row per recipient, and the controls
a person has over a running send (pause, resume, cancel, retry failures).

Every function takes a session and never commits; the caller owns the transaction.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Result, Table, exists, func, select, text, update
from sqlalchemy.orm import Session

from contacts import suppression
from contacts.audience import Audience, audience_contacts
from contacts.models import ACTIVE, BOUNCED, UNSUBSCRIBED, Contact
from mailer.bulletins import messages
from mailer.bulletins.models import Bulletin
from mailer.delivery import send_states
from mailer.delivery.models import (
    FAILED,
    QUEUED,
    SEND_CANCELLED,
    SEND_DONE,
    SEND_PAUSED,
    SEND_SCHEDULED,
    SEND_SENDING,
    SENDING,
    SENT,
    SKIP_BOUNCED,
    SKIP_CANCELLED,
    SKIP_SUPPRESSED,
    SKIP_UNSUBSCRIBED,
    SKIPPED,
    Delivery,
    Send,
)
from mailer.events import catalogue, emit

log = logging.getLogger(__name__)
ANALYZE_AFTER = 1000  # delivery rows made at once

INSERT_CHUNK = 2000
ID_WINDOW = 50_000  # contact ids read per audience query when a send falls due


class SendRefused(Exception):
    """The action does not fit the send's state; the message says why."""


def message_id(domain: str) -> str:
    return f"<{secrets.token_hex(12)}@{domain}>"


def create(
    session: Session,
    bulletin: Bulletin,
    *,
    audience: dict[str, Any] | Audience,
    due_at: datetime,
    title: str = "",
    extra: dict[str, Any] | None = None,
) -> Send:
    """A send of ``bulletin`` as it is now, frozen and scheduled for ``due_at``,
    without an approval: for tests and benchmarks. A consultation's sends are frozen
    by its approval (scheduler/consultations/lifecycle.py)."""
    frozen = messages.freeze(session, bulletin, extra=extra)
    send = Send(
        bulletin_id=bulletin.id,
        kind=bulletin.kind,
        title=title or bulletin.subject,
        audience=Audience.from_json(audience).to_json(),
        frozen=frozen.to_json(),
        state=SEND_SCHEDULED,
        due_at=due_at,
    )
    session.add(send)
    session.flush()
    return send


def make_due(
    session: Session, send: Send, *, now: datetime, domain: str, late_joiners: bool = False
) -> int:
    """Create the delivery rows of ``send``: one per audience contact not yet having
    one. Idempotent (unique on send and contact). With ``late_joiners`` it also adds
    contacts who joined the audience after a finished send went (a launch while the
    consultation is open), and sets the send going again for them.
    Returns how many rows it made. Works through the audience a chunk at a time, so
    memory stays flat however large the list."""
    allowed = (SEND_SCHEDULED, SEND_SENDING, SEND_PAUSED) + ((SEND_DONE,) if late_joiners else ())
    if send.state not in allowed:
        raise SendRefused(f"send {send.id} is {send.state}; only a scheduled send falls due")
    # A send falling due for the first time has no rows yet: asking of every contact
    # whether it has one is needless, and with the rows this transaction adds unseen by
    # the planner's statistics it grew with the square of the audience.
    existing = session.scalar(select(Delivery.id).where(Delivery.send_id == send.id).limit(1))
    made = 0
    for low, high in id_windows(session):
        window = audience_contacts(session, send.audience, ids=(low, high))
        if existing is not None:
            window = window.where(
                ~exists().where(Delivery.send_id == send.id, Delivery.contact_id == Contact.id)
            )
        last_id = low
        while True:
            chunk = session.execute(window.where(Contact.id > last_id).limit(INSERT_CHUNK)).all()
            if not chunk:
                break
            last_id = chunk[-1].id
            made += _insert_rows(session, send, chunk, now=now, domain=domain)
    if send.state == SEND_SCHEDULED:
        send_states.fire(send, now=now)
        log.info("send %s due: %d delivery rows made", send.id, made)
    elif made:
        if send.state == SEND_DONE:
            send_states.reopen(send)
        log.info("send %s: %d delivery rows made for late joiners", send.id, made)
    if made >= ANALYZE_AFTER and session.get_bind().dialect.name == "postgresql":
        # The workers claim these rows within seconds, long before autovacuum notices
        # them; with statistics that still say "few rows" PostgreSQL sorted every one of
        # them on every claim instead of reading the first few off the index.
        session.execute(text("ANALYZE deliveries"))
    return made


def id_windows(session: Session, *, width: int = ID_WINDOW) -> list[tuple[int, int]]:
    """The contact id range cut into windows (low, high]: each query of an audience
    then reads one window by the primary key, rather than the planner weighing the
    whole audience again for every chunk (at a million contacts each chunk's query
    cost more than the rows it made)."""
    top = session.scalar(select(func.max(Contact.id))) or 0
    return [(low, min(low + width, top)) for low in range(0, top, width)]


def _insert_rows(
    session: Session, send: Send, chunk: Sequence[Any], *, now: datetime, domain: str
) -> int:
    """One delivery row per contact of ``chunk``: skipped (and why) or queued."""
    hashes = {row.id: suppression.address_hash(session, row.email_key) for row in chunk}
    suppressed = suppression.suppressed_hashes(session, list(hashes.values()))
    rows: list[dict[str, Any]] = []
    for row in chunk:
        reason = _skip_reason(row.status)
        if reason is None and hashes[row.id] in suppressed:
            reason = SKIP_SUPPRESSED
        rows.append(
            {
                "send_id": send.id,
                "contact_id": row.id,
                "address": row.email,
                "state": SKIPPED if reason else QUEUED,
                "skip_reason": reason or "",
                "attempts": 0,
                "next_attempt_at": None if reason else now,
                "lease_owner": "",
                "last_reply": "",
                "hard_bounce": False,
                "message_id": message_id(domain),
                "created_at": now,
            }
        )
    session.execute(cast(Table, Delivery.__table__).insert(), rows)
    return len(rows)


def _skip_reason(status: str) -> str | None:
    if status == ACTIVE:
        return None
    if status == UNSUBSCRIBED:
        return SKIP_UNSUBSCRIBED
    if status == BOUNCED:
        return SKIP_BOUNCED
    return status


@dataclass(frozen=True)
class Progress:
    queued: int = 0
    sending: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    # Handed over, then a bounce came back (mailer.bounces): not delivered after all.
    bounced: int = 0

    @property
    def total(self) -> int:
        return self.queued + self.sending + self.sent + self.failed + self.skipped + self.bounced

    @property
    def outstanding(self) -> int:
        return self.queued + self.sending

    def counts(self) -> dict[str, int]:
        """The counts the command line's ``--json`` and the API show: waiting (queued
        or being sent), sent, failed, skipped and bounced (handed over, then bounced:
        not delivered, so not in "sent")."""
        return {
            "queued": self.outstanding,
            "sent": self.sent,
            "failed": self.failed,
            "skipped": self.skipped,
            "bounced": self.bounced,
        }


_COUNTED = frozenset(Progress.__dataclass_fields__)


def progress(session: Session, send_id: int) -> Progress:
    """Counts by state; for a send whose rows retention has deleted, the kept summary."""
    counts = dict(
        session.execute(
            select(Delivery.state, func.count())
            .where(Delivery.send_id == send_id)
            .group_by(Delivery.state)
        ).all()
    )
    if not counts:
        send = session.get(Send, send_id)
        if send is not None and send.summary:
            return Progress(**{k: v for k, v in send.summary.items() if k in _COUNTED})
    return Progress(**{state: counts.get(state, 0) for state in Progress.__dataclass_fields__})


def was_delivered(session: Session, *, send_id: int, contact_id: int) -> bool:
    """Was ``send_id`` addressed to this contact (a delivery row exists)?"""
    found = select(Delivery.id).where(
        Delivery.send_id == send_id, Delivery.contact_id == contact_id
    )
    return session.scalar(found) is not None


def finish_if_done(session: Session, send: Send, *, now: datetime) -> bool:
    """Mark a sending send done when nothing is left to do."""
    if send.state != SEND_SENDING:
        return False
    counts = progress(session, send.id)
    if counts.outstanding:
        return False
    send_states.finish(send, now=now)
    emit.emit(session, catalogue.SEND_FINISHED, _finished(send, counts), now=now)
    log.info("send %s done", send.id)
    return True


def _finished(send: Send, counts: Progress) -> dict[str, Any]:
    """The ``send.finished`` event: which send, of what, and its counts (no person)."""
    return {
        "send_id": send.id,
        "kind": send.kind,
        "bulletin_id": send.bulletin_id,
        "consultation_id": send.consultation_id,
        "counts": {
            "sent": counts.sent,
            "failed": counts.failed,
            "skipped": counts.skipped,
            "bounced": counts.bounced,
        },
    }


def pause(session: Session, send: Send, *, reason: str, by_role: str = "") -> None:
    """``by_role``: the role of the person pausing it ("" when the relay refused us)."""
    if send.state not in (SEND_SENDING, SEND_SCHEDULED):
        raise SendRefused(
            f"Only a scheduled or running send can be paused; this one is {send.state}."
        )
    send_states.pause(send, reason=reason, by_role=by_role)
    log.warning("send %s paused: %s", send.id, reason)


def resume(session: Session, send: Send, *, now: datetime) -> None:
    if send.state != SEND_PAUSED:
        raise SendRefused(f"Only a paused send can be resumed; this one is {send.state}.")
    send_states.resume(send)
    # Rows waiting on a backoff go now: the pause may have been long.
    session.execute(
        update(Delivery)
        .where(Delivery.send_id == send.id, Delivery.state == QUEUED)
        .values(next_attempt_at=now)
    )


def cancel(session: Session, send: Send, *, now: datetime) -> int:
    """Stop the send for good; queued rows are skipped. Rows a worker holds right now
    finish (the message may already be on the wire). Returns the rows skipped."""
    if send.state in (SEND_DONE, SEND_CANCELLED):
        raise SendRefused(f"This send is already {send.state}.")
    skipped = skip_queued(session, send)
    send_states.cancel(send, now=now)
    return skipped


def skip_queued(session: Session, send: Send) -> int:
    """Mark the send's waiting rows skipped (send cancelled); returns how many."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.send_id == send.id, Delivery.state == QUEUED)
        .values(state=SKIPPED, skip_reason=SKIP_CANCELLED, next_attempt_at=None)
    )
    return _changed(result)


def _changed(result: Result[Any]) -> int:
    """The rows an UPDATE changed."""
    return cast(CursorResult[Any], result).rowcount or 0


def retry_failed(session: Session, send: Send, *, now: datetime) -> int:
    """Queue the failed deliveries again (a fixed relay, a corrected address)."""
    if send.state in (SEND_CANCELLED,):
        raise SendRefused("A cancelled send cannot be retried.")
    result = session.execute(
        update(Delivery)
        .where(Delivery.send_id == send.id, Delivery.state == FAILED)
        .values(state=QUEUED, attempts=0, next_attempt_at=now)
    )
    count = _changed(result)
    if count and send.state == SEND_DONE:
        send_states.reopen(send)
    return count


__all__ = [
    "SENDING",
    "SENT",
    "Progress",
    "SendRefused",
    "cancel",
    "create",
    "finish_if_done",
    "make_due",
    "pause",
    "progress",
    "resume",
    "retry_failed",
]
