from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer import paging
from mailer.audit.models import AuditEntry

if TYPE_CHECKING:  # the audit log sits below the admin users; it only names their type
    from mailer.accounts.models import User

log = logging.getLogger(__name__)

SYSTEM = "system"


def record(
    session: Session,
    action: str,
    *,
    actor: User | None = None,
    actor_label: str | None = None,
    target_type: str | None = None,
    target_id: object | None = None,
    summary: str = "",
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Add one audit entry to the caller's transaction.

    It commits with whatever it describes, so the log never claims something that
    was rolled back, nor misses something that was kept.
    """
    entry = AuditEntry(
        action=action,
        actor=actor,
        actor_label=actor_label or (actor.email if actor else SYSTEM),
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        summary=summary[:500],
        detail=detail or {},
        ip=ip,
    )
    session.add(entry)
    target = f" on {target_type}:{entry.target_id}" if target_type else ""
    log.info("audit %s by %s%s: %s", action, entry.actor_label, target, summary)
    return entry


def recent(session: Session, *, limit: int = 10) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))


def page(
    session: Session,
    *,
    page: int,
    per_page: int = 50,
    action: str | None = None,
    actor_id: int | None = None,
) -> tuple[list[AuditEntry], int]:
    """One page of the log, newest first, and the total matching count."""
    query = select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
    if actor_id:
        query = query.where(AuditEntry.actor_id == actor_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = paging.within(page, total, per_page)
    rows = session.scalars(
        query.order_by(AuditEntry.id.desc()).offset((page - 1) * per_page).limit(per_page)
    )
    return list(rows), total
