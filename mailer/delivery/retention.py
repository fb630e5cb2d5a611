"""Retention: delivery records older than ``[retention] deliveries`` are deleted.

Whole sends at a time, and only finished ones (done or cancelled): a send's final counts
are kept on the send first, so its page and reports still say how it went, while the
per-person rows (addresses, replies) go. Housekeeping (mailer/housekeeping.py) runs
it beside the workers, with the other purges mailer/personal_data.py lists;
it is safe to run at any time and as often as you like.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mailer.database import rows_changed
from mailer.delivery import sends
from mailer.delivery.models import SEND_CANCELLED, SEND_DONE, Delivery, Send

log = logging.getLogger(__name__)


def purge(session: Session, *, now: datetime, keep: timedelta) -> int:
    """Delete the delivery rows of finished sends that ended before ``now - keep``;
    returns how many rows went."""
    cutoff = now - keep
    removed = 0
    old = session.scalars(
        select(Send).where(
            Send.state.in_((SEND_DONE, SEND_CANCELLED)),
            Send.finished_at.is_not(None),
            Send.finished_at < cutoff,
        )
    ).all()
    for send in old:
        counts = sends.progress(session, send.id)
        if counts.total == 0:
            continue  # already purged
        send.summary = {k: v for k, v in asdict(counts).items()}
        deleted = rows_changed(session, delete(Delivery).where(Delivery.send_id == send.id))
        removed += deleted
        log.info("retention: deleted %s delivery rows of send %s", deleted, send.id)
    return removed
