"""How one send went, in figures a comms officer reads: who it reached, what was clicked."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer.delivery.models import TrackedLink
from mailer.tracking.models import ClickCount


def clicks_by_link(session: Session, send_id: int) -> dict[str, int]:
    """Link address -> clicks through the send's tracked links (all days, all routes)."""
    rows = session.execute(
        select(TrackedLink.target, func.coalesce(func.sum(ClickCount.count), 0))
        .outerjoin(ClickCount, ClickCount.link_id == TrackedLink.id)
        .where(TrackedLink.send_id == send_id)
        .group_by(TrackedLink.target)
        .order_by(TrackedLink.target)
    ).all()
    return {target: int(count) for target, count in rows}
