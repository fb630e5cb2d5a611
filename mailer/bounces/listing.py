"""Bounces and complaints as the admin reads them: the bounces page and its CSV, and
one bounce in full with the message it came in.

The page lists two kinds of record, merged newest first: the bounces and complaints
that came back after a message was handed over (``Bounce`` rows), and the refusals of
a recipient during the SMTP conversation ("user unknown" at RCPT), which stay delivery
rows in state failed with ``hard_bounce`` set and have no ``Bounce`` row. Both are what
a comms officer means by "bounces", so one list shows both, each labelled by where it
came from ("Refused by the relay" for the second). A refusal that a DSN later confirmed
has a ``Bounce`` row and is listed once, as that row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, String, exists, func, literal, select, union_all
from sqlalchemy.orm import Session

from mailer.bounces.models import (
    COMPLAINT,
    HARD,
    KIND_LABELS,
    SOFT,
    SOURCE_LABELS,
    SOURCE_SMTP,
    Bounce,
    BounceMessage,
)
from mailer.delivery.models import FAILED, Delivery, Send
from mailer.paging import pages, within

PER_PAGE = 50

# The two halves of the page, and their union (any columns).
_Query = Select[*tuple[Any, ...]]

# The filter "refused": only the refusals during sending. "hard" shows them too, since
# an address refused at RCPT is as dead as one a DSN reports.
REFUSED = "refused"
FILTER_LABELS = {
    HARD: "Hard bounces (refusals included)",
    SOFT: "Soft bounces",
    COMPLAINT: "Complaints",
    REFUSED: "Refused by the relay during sending",
}

# The most of a stored message the detail page shows; the stored copy itself is capped
# at models.MAX_STORED_MESSAGE.
MESSAGE_SHOWN = 64 * 1024

REFUSAL_OUTCOME = "Not delivered: counted as a hard bounce towards suppression."


@dataclass(frozen=True)
class Filters:
    """What the page is narrowed to. Anything the page's own links never make (an
    unknown kind, a send that is not a number) is read as no filter."""

    kind: str = ""
    send_id: int | None = None

    @classmethod
    def read(cls, *, kind: str | None, send_id: int | None) -> Filters:
        return cls(kind=kind if kind in FILTER_LABELS else "", send_id=send_id)

    def args(self) -> dict[str, str | int]:
        """The query string that gives these filters again (for paging and the CSV)."""
        found: dict[str, str | int] = {}
        if self.kind:
            found["kind"] = self.kind
        if self.send_id is not None:
            found["send"] = self.send_id
        return found


@dataclass(frozen=True)
class Row:
    bounce_id: int | None  # None: a refusal during sending (a delivery row, no bounce)
    at: datetime
    address: str  # "" once the person is erased
    contact_id: int | None
    kind: str
    status: str
    reason: str
    send_id: int | None
    send_title: str
    source: str
    outcome: str

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS.get(self.source, self.source)


@dataclass(frozen=True)
class Page:
    rows: tuple[Row, ...]
    page: int
    pages: int
    total: int


def _bounces(filters: Filters) -> _Query | None:
    if filters.kind == REFUSED:
        return None
    query = select(
        Bounce.id.label("bounce_id"),
        Bounce.received_at.label("at"),
        Bounce.address.label("address"),
        Bounce.contact_id.label("contact_id"),
        Bounce.kind.label("kind"),
        Bounce.status.label("status"),
        Bounce.diagnostic.label("reason"),
        Bounce.send_id.label("send_id"),
        Bounce.source.label("source"),
        Bounce.outcome.label("outcome"),
    )
    if filters.kind:
        query = query.where(Bounce.kind == filters.kind)
    if filters.send_id is not None:
        query = query.where(Bounce.send_id == filters.send_id)
    return query


def _refusals(filters: Filters) -> _Query | None:
    if filters.kind not in ("", HARD, REFUSED):
        return None
    confirmed = exists().where(Bounce.delivery_id == Delivery.id)
    query = select(
        literal(None, type_=Bounce.id.type).label("bounce_id"),
        # A failed delivery keeps no time of its failure: the time its row was made
        # (when the send fell due) is within minutes of it.
        func.coalesce(Delivery.sent_at, Delivery.created_at).label("at"),
        Delivery.address.label("address"),
        Delivery.contact_id.label("contact_id"),
        literal(HARD, type_=String(20)).label("kind"),
        literal("", type_=String(20)).label("status"),
        Delivery.last_reply.label("reason"),
        Delivery.send_id.label("send_id"),
        literal(SOURCE_SMTP, type_=String(20)).label("source"),
        literal(REFUSAL_OUTCOME, type_=String(300)).label("outcome"),
    ).where(Delivery.state == FAILED, Delivery.hard_bounce.is_(True), ~confirmed)
    if filters.send_id is not None:
        query = query.where(Delivery.send_id == filters.send_id)
    return query


def _parts(filters: Filters) -> list[_Query]:
    return [part for part in (_bounces(filters), _refusals(filters)) if part is not None]


def _count(session: Session, part: _Query) -> int:
    return session.scalar(select(func.count()).select_from(part.subquery())) or 0


def _merged(filters: Filters) -> _Query:
    parts = _parts(filters)
    merged = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    title: ColumnElement[str] = func.coalesce(Send.title, "")
    return (
        select(*merged.c, title.label("send_title"))
        .outerjoin(Send, Send.id == merged.c.send_id)
        .order_by(merged.c.at.desc(), merged.c.bounce_id.desc())
    )


def _row(values: object) -> Row:
    data = values._mapping  # type: ignore[attr-defined]
    return Row(
        bounce_id=data["bounce_id"],
        at=data["at"],
        address=data["address"] or "",
        contact_id=data["contact_id"],
        kind=data["kind"],
        status=data["status"] or "",
        reason=data["reason"] or "",
        send_id=data["send_id"],
        send_title=data["send_title"] or "",
        source=data["source"],
        outcome=data["outcome"] or "",
    )


def listing(session: Session, filters: Filters, *, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """One page of bounces, complaints and refusals, newest first."""
    total = sum(_count(session, part) for part in _parts(filters))
    page = within(page, total, per_page)
    rows = session.execute(_merged(filters).limit(per_page).offset((page - 1) * per_page))
    return Page(
        rows=tuple(_row(values) for values in rows),
        page=page,
        pages=pages(total, per_page),
        total=total,
    )


def every_row(session: Session, filters: Filters) -> Iterator[Row]:
    """Every matching row, newest first, read in batches (for the CSV)."""
    for values in session.execute(_merged(filters).execution_options(yield_per=1000)):
        yield _row(values)


@dataclass(frozen=True)
class Detail:
    bounce: Bounce
    send_title: str
    # The stored message as text, at most MESSAGE_SHOWN characters of it; None when
    # none was stored (a webhook event) or it has been deleted ([bounces] keep_messages).
    message: str | None
    message_cut: bool
    message_subject: str
    message_received_at: datetime | None

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.bounce.kind, self.bounce.kind)

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS.get(self.bounce.source, self.bounce.source)


def detail(session: Session, bounce_id: int) -> Detail | None:
    bounce = session.get(Bounce, bounce_id)
    if bounce is None:
        return None
    title = ""
    if bounce.send_id is not None:
        title = session.scalar(select(Send.title).where(Send.id == bounce.send_id)) or ""
    stored = session.get(BounceMessage, bounce.message_ref) if bounce.message_ref else None
    text = None
    cut = False
    if stored is not None:
        # Bytes as they arrived; whatever their charset, shown as text, never as HTML.
        text = bytes(stored.data[: MESSAGE_SHOWN * 4]).decode("utf-8", "replace")
        cut = len(text) > MESSAGE_SHOWN or len(stored.data) > MESSAGE_SHOWN * 4
        text = text[:MESSAGE_SHOWN]
    return Detail(
        bounce=bounce,
        send_title=title,
        message=text,
        message_cut=cut,
        message_subject=stored.subject if stored is not None else "",
        message_received_at=stored.received_at if stored is not None else None,
    )
