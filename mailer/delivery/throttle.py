"""The limits a relay imposes, shared by every worker through the database.

- ``rate_per_second``: messages leave at most this often across all workers. A worker
  reserves the slots for its whole batch in one short transaction on the shared
  ``relay_state`` row, then paces itself through them: one round trip per batch, not
  per message.
- ``per_hour`` / ``per_day``: before claiming, a worker counts what the relay took in
  the last hour and day (``deliveries.sent_at`` is indexed) and claims no more than the
  caps leave; when a cap is reached it claims nothing until the window moves on.
Counts are of messages handed over, whichever send they belonged to: the relay's quota
is the office's, not a send's.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer.config import SmtpSection
from mailer.delivery.models import SENDING, Delivery, RelayState

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def allowance(
    session: Session, smtp: SmtpSection, now: datetime
) -> tuple[int | None, datetime | None]:
    """How many messages may be claimed now (None: no cap), and when a capped-out
    worker should look again."""
    left: int | None = None
    retry_at: datetime | None = None
    if not (smtp.per_hour or smtp.per_day):
        return left, retry_at
    _lock(session)  # claims under a cap take turns, so two cannot spend the same room
    in_flight = (
        session.scalar(select(func.count()).select_from(Delivery).where(Delivery.state == SENDING))
        or 0
    )
    for cap, window in ((smtp.per_hour, HOUR), (smtp.per_day, DAY)):
        if not cap:
            continue
        since = now - window
        used = (
            session.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.sent_at > since)
            )
            or 0
        )
        remaining = max(cap - used - in_flight, 0)
        left = remaining if left is None else min(left, remaining)
        if remaining == 0:
            oldest = session.scalar(
                select(func.min(Delivery.sent_at)).where(Delivery.sent_at > since)
            )
            moment = (oldest or now) + window
            retry_at = moment if retry_at is None else max(retry_at, moment)
    return left, retry_at


def reserve(session: Session, smtp: SmtpSection, count: int, now: datetime) -> list[datetime]:
    """``count`` send times at least 1/rate apart, after every slot already reserved.
    The caller commits (PostgreSQL: the row is locked until then; SQLite: the claim's
    BEGIN IMMEDIATE already serialises)."""
    if not smtp.rate_per_second or count <= 0:
        return []
    state = _lock(session)
    gap = timedelta(seconds=1 / smtp.rate_per_second)
    start = max(now, state.next_slot_at or now)
    slots = [start + gap * n for n in range(count)]
    state.next_slot_at = slots[-1] + gap
    return slots


def _lock(session: Session) -> RelayState:
    """The shared row, locked until the caller's transaction ends (on SQLite the
    claim's BEGIN IMMEDIATE already holds the whole database)."""
    query = select(RelayState).where(RelayState.id == 1)
    if session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update()
    state = session.scalar(query)
    if state is None:  # a database emptied by hand; put the row back
        state = RelayState(id=1, next_slot_at=None)
        session.add(state)
        session.flush()
    return state
