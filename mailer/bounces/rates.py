"""Per-send bounce and complaint figures: the send's page, its report, and the
dashboard's rates with the warnings a comms officer acts on.

Each function answers for any number of sends with one grouped query per table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer.bounces.models import COMPLAINT, Bounce
from mailer.delivery.models import BOUNCED, FAILED, SENT, Delivery

# Gmail's published limit for bulk senders (Yahoo's is the same): complaints above it
# and the office's mail goes to spam or is refused.
COMPLAINT_LIMIT = Decimal("0.003")
# Above this share of bounces, mailbox providers read the list as old or bought.
BOUNCE_LIMIT = Decimal("0.05")


def complaints_by_send(session: Session, send_ids: Sequence[int]) -> dict[int, int]:
    """send id -> complaints ("this is spam") recorded about its message."""
    if not send_ids:
        return {}
    return {
        int(send_id or 0): int(count)
        for send_id, count in session.execute(
            select(Bounce.send_id, func.count())
            .where(Bounce.send_id.in_(send_ids), Bounce.kind == COMPLAINT)
            .group_by(Bounce.send_id)
        )
    }


@dataclass(frozen=True)
class Rates:
    """One send's figures behind its rates."""

    delivered: int = 0  # still counted as delivered (sent, no bounce came back)
    bounced: int = 0  # handed over, then a bounce came back
    refused: int = 0  # refused at RCPT (hard): never handed over
    complaints: int = 0

    @property
    def handed_over(self) -> int:
        """Every message the relay was asked to take for a real recipient."""
        return self.delivered + self.bounced + self.refused

    @property
    def bounce_rate(self) -> Decimal | None:
        if not self.handed_over:
            return None
        return Decimal(self.bounced + self.refused) / Decimal(self.handed_over)

    @property
    def complaint_rate(self) -> Decimal | None:
        # Complaints come from people who got the message; a bounced one got nothing.
        if not self.delivered:
            return None
        return Decimal(self.complaints) / Decimal(self.delivered)

    @property
    def too_many_complaints(self) -> bool:
        rate = self.complaint_rate
        return rate is not None and rate > COMPLAINT_LIMIT

    @property
    def too_many_bounces(self) -> bool:
        rate = self.bounce_rate
        return rate is not None and rate > BOUNCE_LIMIT


def by_send(session: Session, send_ids: Sequence[int]) -> dict[int, Rates]:
    """send id -> its rates: one query over the delivery rows, one over the bounces."""
    if not send_ids:
        return {}
    counts: dict[int, dict[str, int]] = {send_id: {} for send_id in send_ids}
    for send_id, state, hard, count in session.execute(
        select(Delivery.send_id, Delivery.state, Delivery.hard_bounce, func.count())
        .where(Delivery.send_id.in_(send_ids), Delivery.state.in_((SENT, BOUNCED, FAILED)))
        .group_by(Delivery.send_id, Delivery.state, Delivery.hard_bounce)
    ):
        figures = counts[int(send_id)]
        if state == FAILED:
            if hard:
                figures["refused"] = figures.get("refused", 0) + int(count)
            continue
        key = "delivered" if state == SENT else "bounced"
        figures[key] = figures.get(key, 0) + int(count)
    complaints = complaints_by_send(session, send_ids)
    return {
        send_id: Rates(complaints=complaints.get(send_id, 0), **figures)
        for send_id, figures in counts.items()
    }


def limit(rate: Decimal) -> str:
    """A threshold as people quote it: 0.003 -> "0.3 %"."""
    return f"{(rate * 100).normalize():f} %"


def percent(rate: Decimal | None) -> str:
    """0.0042 -> "0.42 %": two decimals under 1 %, where the limits are, else one."""
    if rate is None:
        return "-"
    value = rate * 100
    places = Decimal("0.01") if value < 1 else Decimal("0.1")
    return f"{value.quantize(places)} %"
