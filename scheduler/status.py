"""The scheduler's state, as /healthz and the admin show it.

The active scheduler writes one row (id 1) on every tick; anyone reads it. A heartbeat
older than STALE_AFTER means no scheduler is running: sends will not fire until one
starts (then those within the grace time run late, the rest are marked missed).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from mailer.delivery import switch
from scheduler.models import SchedulerStatus

STALE_AFTER = timedelta(seconds=30)

RUNNING = "running"
NOT_RUNNING = "not running"


def _row(session: Session) -> SchedulerStatus:
    row = session.get(SchedulerStatus, 1)
    if row is None:
        row = SchedulerStatus(id=1, owner="")
        session.add(row)
        session.flush()
    return row


def started(session: Session, *, owner: str, now: datetime) -> None:
    row = _row(session)
    row.owner, row.started_at, row.heartbeat_at = owner, now, now


def heartbeat(
    session: Session,
    *,
    owner: str,
    now: datetime,
    next_run_at: datetime | None,
    next_send_id: int | None,
) -> None:
    row = _row(session)
    row.owner, row.heartbeat_at = owner, now
    row.next_run_at, row.next_send_id = next_run_at, next_send_id


def stopped(session: Session, *, owner: str) -> None:
    row = _row(session)
    if row.owner == owner:
        row.owner, row.heartbeat_at, row.next_run_at, row.next_send_id = "", None, None, None


def read(session: Session, *, now: datetime) -> dict[str, Any]:
    """JSON-able: state, who leads, when it last ticked, the next send it will fire,
    and whether the stop switch is on."""
    row = session.get(SchedulerStatus, 1)
    alive = (
        row is not None
        and row.heartbeat_at is not None
        and bool(row.owner)
        and now - row.heartbeat_at <= STALE_AFTER
    )
    return {
        "state": RUNNING if alive else NOT_RUNNING,
        "ok": alive,
        "owner": row.owner if alive and row else None,
        "heartbeat_at": _iso(row.heartbeat_at) if row else None,
        "next_run_at": _iso(row.next_run_at) if alive and row else None,
        "next_send_id": row.next_send_id if alive and row else None,
        "sending_stopped": switch.is_stopped(session),
    }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")
