"""The bulletins list: each bulletin with its status, its consultation, the audience of
its latest send, when it went and how it went, filtered and paged.

It reads sends and deliveries, so it lives above delivery. However many bulletins there
are, a page costs a fixed number of queries: the page itself (its status worked out in
SQL so the status filter pages correctly), the sends of the bulletins on it, the
delivery counts of their latest sends in one grouped query, and the names the
consultations and audiences need.

A bulletin's status comes from its latest send that counts: not a draft send, and not
one cancelled before it fired. None: a draft. Archived wins over everything.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, not_, or_, select
from sqlalchemy.orm import Session, aliased

from contacts.audience import AudienceNames
from mailer.bulletins.models import Bulletin
from mailer.delivery.models import (
    FAILED,
    QUEUED,
    SEND_AWAITING_APPROVAL,
    SEND_CANCELLED,
    SEND_DONE,
    SEND_DRAFT,
    SEND_MISSED,
    SEND_PAUSED,
    SEND_SCHEDULED,
    SEND_SENDING,
    SENDING,
    SENT,
    SKIPPED,
    Delivery,
    Send,
)
from mailer.paging import pages, within
from scheduler.models import Consultation

PER_PAGE = 50

DRAFT = "draft"
AWAITING = "awaiting"
SCHEDULED = "scheduled"
IN_FLIGHT = "sending"
WENT = "sent"
ARCHIVED = "archived"
STATUS_LABELS = {
    DRAFT: "Draft",
    AWAITING: "Awaiting approval",
    SCHEDULED: "Scheduled",
    IN_FLIGHT: "Sending",
    WENT: "Sent",
    ARCHIVED: "Archived",
}
# The send states each status covers (of the bulletin's latest send that counts).
STATUS_STATES = {
    AWAITING: (SEND_AWAITING_APPROVAL,),
    SCHEDULED: (SEND_SCHEDULED, SEND_MISSED),
    IN_FLIGHT: (SEND_SENDING, SEND_PAUSED),
    WENT: (SEND_DONE, SEND_CANCELLED),
}


class FilterRefused(Exception):
    """A filter value that is not one of ours (the page answers 400)."""


@dataclass(frozen=True)
class Filters:
    status: str = ""
    kind: str = ""
    consultation_id: int | None = None
    text: str = ""
    include_archived: bool = False

    def __post_init__(self) -> None:
        if self.status and self.status not in STATUS_LABELS:
            raise FilterRefused(f'There is no status "{self.status}" to filter by.')


@dataclass(frozen=True)
class Counts:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    waiting: int = 0


@dataclass(frozen=True)
class Row:
    id: int
    subject: str
    kind: str
    status: str
    # When a scheduled send goes, or when the latest send went.
    status_at: datetime | None
    consultation_id: int | None
    consultation_title: str
    audience: str
    sent_at: datetime | None
    counts: Counts | None
    # Sends that went (or are going): "3 sends" when more than one.
    sends: int
    archived: bool
    copied_from_id: int | None
    updated_at: datetime

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class Listing:
    rows: list[Row]
    total: int
    page: int
    pages: int
    per_page: int
    filters: Filters = field(default_factory=Filters)


def counted() -> Any:
    """SQL: a send that counts towards a bulletin's status."""
    return and_(
        Send.state != SEND_DRAFT,
        not_(and_(Send.state == SEND_CANCELLED, Send.fired_at.is_(None))),
    )


def listing(
    session: Session, filters: Filters, *, page: int = 1, per_page: int = PER_PAGE
) -> Listing:
    # The latest send that counts, per bulletin, in one grouped pass over the sends
    # (sends.bulletin_id has no index: a lookup per bulletin would scan them each time).
    newest = (
        select(Send.bulletin_id, func.max(Send.id).label("send_id"))
        .where(Send.bulletin_id.is_not(None), counted())
        .group_by(Send.bulletin_id)
        .subquery()
    )
    latest = aliased(Send)
    query = select(Bulletin.id)
    if filters.status in (DRAFT, *STATUS_STATES):  # only then is the latest send asked
        query = query.outerjoin(newest, newest.c.bulletin_id == Bulletin.id).outerjoin(
            latest, latest.id == newest.c.send_id
        )
    query = query.where(*_conditions(filters, latest))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = within(page, total, per_page)
    ids = list(
        session.scalars(
            query.order_by(Bulletin.updated_at.desc(), Bulletin.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return Listing(
        rows=_rows(session, ids),
        total=total,
        page=page,
        pages=pages(total, per_page),
        per_page=per_page,
        filters=filters,
    )


def _conditions(filters: Filters, latest: Any) -> list[Any]:
    found: list[Any] = []
    if filters.status == ARCHIVED:
        found.append(Bulletin.archived_at.is_not(None))
    elif not filters.include_archived:
        found.append(Bulletin.archived_at.is_(None))
    if filters.status == DRAFT:
        found.append(latest.id.is_(None))
    elif filters.status in STATUS_STATES:
        found.append(latest.state.in_(STATUS_STATES[filters.status]))
    if filters.kind:
        found.append(Bulletin.kind == filters.kind)
    if filters.consultation_id is not None:
        on_timeline = Bulletin.id.in_(
            select(Send.bulletin_id).where(Send.consultation_id == filters.consultation_id)
        )
        found.append(or_(Bulletin.consultation_id == filters.consultation_id, on_timeline))
    if filters.text.strip():
        found.append(Bulletin.subject.icontains(filters.text.strip(), autoescape=True))
    return found


def _status(latest: Any) -> str:
    if latest is None:
        return DRAFT
    return next((key for key, states in STATUS_STATES.items() if latest.state in states), DRAFT)


def _rows(session: Session, ids: list[int]) -> list[Row]:
    if not ids:
        return []
    # Only the columns shown: a send's frozen message can be large.
    bulletins = {
        b.id: b
        for b in session.execute(
            select(
                Bulletin.id,
                Bulletin.subject,
                Bulletin.kind,
                Bulletin.archived_at,
                Bulletin.consultation_id,
                Bulletin.copied_from_id,
                Bulletin.updated_at,
            ).where(Bulletin.id.in_(ids))
        )
    }
    by_bulletin: dict[int, list[Any]] = defaultdict(list)
    for send in session.execute(
        select(
            Send.id,
            Send.bulletin_id,
            Send.state,
            Send.due_at,
            Send.fired_at,
            Send.audience,
            Send.consultation_id,
            Send.summary,
        )
        .where(Send.bulletin_id.in_(ids))
        .order_by(Send.id.desc())
    ):
        by_bulletin[send.bulletin_id or 0].append(send)
    went = {i: [s for s in by_bulletin[i] if s.fired_at is not None] for i in ids}
    counts = _counts(session, [sends[0] for sends in went.values() if sends])
    titles = _titles(session, bulletins.values(), by_bulletin)
    chosen: dict[int, Any] = {}
    for i in ids:
        live = [s for s in by_bulletin[i] if _counts_toward(s)]
        chosen[i] = live[0] if live else None
    audiences = {i: (chosen[i] or (by_bulletin[i][0] if by_bulletin[i] else None)) for i in ids}
    names = AudienceNames.load(session, [s.audience for s in audiences.values() if s])
    rows = []
    for i in ids:
        bulletin, latest = bulletins[i], chosen[i]
        last_went = went[i][0] if went[i] else None
        status = ARCHIVED if bulletin.archived_at is not None else _status(latest)
        consultation_id = bulletin.consultation_id or next(
            (s.consultation_id for s in by_bulletin[i] if s.consultation_id), None
        )
        shown = audiences[i]
        rows.append(
            Row(
                id=i,
                subject=bulletin.subject,
                kind=bulletin.kind,
                status=status,
                status_at=(
                    latest.due_at
                    if status == SCHEDULED and latest
                    else last_went.fired_at
                    if last_went
                    else None
                ),
                consultation_id=consultation_id,
                consultation_title=titles.get(consultation_id or 0, ""),
                audience=names.describe(shown.audience) if shown else "",
                sent_at=last_went.fired_at if last_went else None,
                counts=counts.get(last_went.id) if last_went else None,
                sends=sum(1 for s in by_bulletin[i] if _counts_toward(s)),
                archived=bulletin.archived_at is not None,
                copied_from_id=bulletin.copied_from_id,
                updated_at=bulletin.updated_at,
            )
        )
    return rows


def _counts_toward(send: Any) -> bool:
    return send.state != SEND_DRAFT and not (send.state == SEND_CANCELLED and send.fired_at is None)


def _counts(session: Session, sends: list[Any]) -> dict[int, Counts]:
    """Delivery counts of ``sends`` in one grouped query; a send whose rows retention
    deleted shows the summary it kept."""
    if not sends:
        return {}
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for send_id, state, number in session.execute(
        select(Delivery.send_id, Delivery.state, func.count())
        .where(Delivery.send_id.in_([s.id for s in sends]))
        .group_by(Delivery.send_id, Delivery.state)
    ).all():
        found[send_id][state] = number
    result = {}
    for send in sends:
        by_state = found.get(send.id) or dict(send.summary or {})
        result[send.id] = Counts(
            sent=by_state.get(SENT, 0),
            failed=by_state.get(FAILED, 0),
            skipped=by_state.get(SKIPPED, 0),
            waiting=by_state.get(QUEUED, 0) + by_state.get(SENDING, 0),
        )
    return result


def _titles(session: Session, bulletins: Any, by_bulletin: dict[int, list[Send]]) -> dict[int, str]:
    wanted = {b.consultation_id for b in bulletins if b.consultation_id}
    wanted |= {s.consultation_id for sends in by_bulletin.values() for s in sends}
    wanted.discard(None)
    if not wanted:
        return {}
    return dict(
        session.execute(
            select(Consultation.id, Consultation.title).where(Consultation.id.in_(wanted))
        ).all()
    )


def consultations(session: Session) -> list[tuple[int, str]]:
    """Every consultation, newest first: the choices of the consultation filter."""
    return list(
        session.execute(
            select(Consultation.id, Consultation.title).order_by(
                Consultation.opens_at.desc(), Consultation.id.desc()
            )
        ).all()
    )
