"""How one send went, in figures a comms officer reads: who it reached, what was clicked.

A send's report and a bulletin's (the sum of its sends) are made of a few grouped
queries, one per table, whatever the size of the send: the delivery rows by state and
skip reason, the unsubscribes it caused, the clicks per tracked link, and for a
consultation's send what its recipients' share links brought. Only one page of
failures is read at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from contacts.models import SUPPRESSED_ERASED, SUPPRESSED_UNSUBSCRIBED, Contact, Suppression
from mailer.bounces import rates
from mailer.delivery.models import (
    BOUNCED,
    FAILED,
    QUEUED,
    SENDING,
    SENT,
    SKIPPED,
    Delivery,
    Send,
    TrackedLink,
)
from mailer.paging import pages, within
from mailer.tracking import reports
from mailer.tracking.models import ClickCount

FAILURES_PER_PAGE = 50
# The failures list: refused or given up on, and handed over but bounced later (with
# the bounce's words, which processing keeps as the delivery's last reply).
_NOT_DELIVERED = (FAILED, BOUNCED)
_FAILURE_COLUMNS = (
    Delivery.address,
    Delivery.attempts,
    Delivery.last_reply,
    Delivery.hard_bounce,
    Delivery.state,
)


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


@dataclass(frozen=True)
class Counts:
    """One send's figures (or the sum of a bulletin's sends)."""

    recipients: int = 0  # delivery rows, skipped ones included
    delivered: int = 0
    failed: int = 0
    waiting: int = 0  # queued, or with a worker now
    skipped: int = 0
    unsubscribes: int = 0
    clicks: int = 0
    # Handed over, then a bounce came back: not delivered after all (not in delivered).
    bounced: int = 0
    complaints: int = 0  # recipients who marked the message as spam

    @property
    def not_delivered(self) -> int:
        """The failures list's length: failed, and bounced after sending."""
        return self.failed + self.bounced

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            *(getattr(self, name) + getattr(other, name) for name in Counts.__dataclass_fields__)
        )


@dataclass(frozen=True)
class LinkClicks:
    label: str
    target: str
    kind: str
    clicks: int


@dataclass(frozen=True)
class Failure:
    address: str  # "" once the person is erased
    attempts: int
    last_reply: str
    hard_bounce: bool
    state: str = FAILED  # or BOUNCED: handed over, then a bounce came back

    @property
    def what(self) -> str:
        if self.state == BOUNCED:
            return "Bounced after sending"
        return "Refused by the relay" if self.hard_bounce else "Failed"


@dataclass(frozen=True)
class Cascade:
    """What the share links of a consultation send's recipients brought."""

    share_visits: int
    sign_ups: int


@dataclass(frozen=True)
class SendReport:
    send_id: int
    title: str
    counts: Counts
    skipped_by_reason: tuple[tuple[str, int], ...]
    links: tuple[LinkClicks, ...]
    failures: tuple[Failure, ...]  # one page of them, newest first
    failures_page: int
    failures_pages: int
    cascade: Cascade | None  # None: not a consultation's send
    # The delivery rows are gone ([retention]); the figures are the summary kept then.
    from_summary: bool = False

    def summary_rows(self) -> list[tuple[str, int]]:
        c = self.counts
        rows = [
            ("Recipients", c.recipients),
            ("Delivered", c.delivered),
            ("Bounced after sending", c.bounced),
            ("Failed", c.failed),
            ("Waiting to be sent", c.waiting),
            ("Skipped", c.skipped),
            ("Unsubscribed from this send", c.unsubscribes),
            ("Complaints (marked as spam)", c.complaints),
            ("Clicks on its links", c.clicks),
        ]
        if self.cascade is not None:
            rows += [
                ("Visits through recipients' share links", self.cascade.share_visits),
                ("Sign-ups through recipients' share links", self.cascade.sign_ups),
            ]
        return rows


@dataclass(frozen=True)
class SendRow:
    """One send of a bulletin, in the bulletin's report."""

    send_id: int
    title: str
    state: str
    due_at: datetime | None
    fired_at: datetime | None
    counts: Counts


@dataclass(frozen=True)
class BulletinReport:
    sends: tuple[SendRow, ...]
    total: Counts = field(default_factory=Counts)
    links: tuple[LinkClicks, ...] = ()  # every send's clicks, by address


# --- the grouped queries (each for any number of sends) ---------------------------------


def _by_state(session: Session, send_ids: Sequence[int]) -> dict[int, dict[tuple[str, str], int]]:
    """send id -> (state, skip reason) -> rows."""
    found: dict[int, dict[tuple[str, str], int]] = {}
    for send_id, state, reason, count in session.execute(
        select(Delivery.send_id, Delivery.state, Delivery.skip_reason, func.count())
        .where(_one_or_many(Delivery.send_id, send_ids))
        .group_by(Delivery.send_id, Delivery.state, Delivery.skip_reason)
    ):
        found.setdefault(send_id, {})[(state, reason or "")] = int(count)
    return found


def _one_or_many(column: Any, ids: Sequence[int]) -> ColumnElement[bool]:
    # "= id" for one send lets the database use the (send_id, contact_id) index plainly.
    condition: ColumnElement[bool] = column == ids[0] if len(ids) == 1 else column.in_(ids)
    return condition


def _unsubscribes(session: Session, send_ids: Sequence[int]) -> dict[int, int]:
    """send id -> people who unsubscribed through its message: contacts that say so,
    and erased people (their contact gone) whose suppression entry names the send.
    A contact still here is counted by its own row, so nobody is counted twice."""
    found: dict[int, int] = {}
    for send_id, count in session.execute(
        select(Contact.unsubscribed_from_send, func.count())
        .where(_one_or_many(Contact.unsubscribed_from_send, send_ids))
        .group_by(Contact.unsubscribed_from_send)
    ):
        if send_id is not None:
            found[send_id] = found.get(send_id, 0) + int(count)
    for send_id, count in session.execute(
        select(Suppression.send_id, func.count())
        .where(
            _one_or_many(Suppression.send_id, send_ids),
            Suppression.contact_id.is_(None),
            # Erasure rewrites the reason to "erased"; the send stays named.
            Suppression.reason.in_((SUPPRESSED_UNSUBSCRIBED, SUPPRESSED_ERASED)),
        )
        .group_by(Suppression.send_id)
    ):
        if send_id is not None:
            found[send_id] = found.get(send_id, 0) + int(count)
    return found


def _links(session: Session, send_ids: Sequence[int]) -> list[tuple[int, LinkClicks]]:
    rows = session.execute(
        select(
            TrackedLink.send_id,
            TrackedLink.label,
            TrackedLink.target,
            TrackedLink.kind,
            func.coalesce(func.sum(ClickCount.count), 0),
        )
        .outerjoin(ClickCount, ClickCount.link_id == TrackedLink.id)
        .where(_one_or_many(TrackedLink.send_id, send_ids))
        .group_by(
            TrackedLink.id,
            TrackedLink.send_id,
            TrackedLink.label,
            TrackedLink.target,
            TrackedLink.kind,
        )
    ).all()
    return [
        (int(send_id or 0), LinkClicks(label or target, target, kind, int(clicks)))
        for send_id, label, target, kind, clicks in rows
    ]


def _ordered(links: Sequence[LinkClicks]) -> tuple[LinkClicks, ...]:
    return tuple(sorted(links, key=lambda link: (-link.clicks, link.label.casefold())))


def _counts(
    states: dict[tuple[str, str], int], unsubscribes: int, clicks: int, complaints: int = 0
) -> Counts:
    def total(*wanted: str) -> int:
        return sum(n for (state, _), n in states.items() if state in wanted)

    return Counts(
        recipients=sum(states.values()),
        delivered=total(SENT),
        failed=total(FAILED),
        waiting=total(QUEUED, SENDING),
        skipped=total(SKIPPED),
        unsubscribes=unsubscribes,
        clicks=clicks,
        bounced=total(BOUNCED),
        complaints=complaints,
    )


def _kept_summary(send: Send) -> dict[tuple[str, str], int]:
    """The counts kept when [retention] deleted the rows, as states (no skip reasons)."""
    return {(state, ""): int(n) for state, n in (send.summary or {}).items()}


# --- the reports ---------------------------------------------------------------------


def send_report(
    session: Session, send: Send, *, page: int = 1, per_page: int = FAILURES_PER_PAGE
) -> SendReport:
    states = _by_state(session, [send.id]).get(send.id, {})
    from_summary = not states and bool(send.summary)
    if from_summary:
        states = _kept_summary(send)
    links = [link for _, link in _links(session, [send.id])]
    counts = _counts(
        states,
        _unsubscribes(session, [send.id]).get(send.id, 0),
        sum(link.clicks for link in links),
        rates.complaints_by_send(session, [send.id]).get(send.id, 0),
    )
    skipped = sorted(
        ((reason or "not given", n) for (state, reason), n in states.items() if state == SKIPPED),
        key=lambda item: (-item[1], item[0]),
    )
    page = within(page, counts.not_delivered, per_page)
    failures = session.execute(
        select(*_FAILURE_COLUMNS)
        .where(Delivery.send_id == send.id, Delivery.state.in_(_NOT_DELIVERED))
        .order_by(Delivery.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    cascade = None
    if send.consultation_id is not None:
        codes = reports.share_codes(send.consultation_id, delivered_by=send.id)
        cascade = Cascade(
            share_visits=sum(reports.visits_by_code(session, codes).values()),
            sign_ups=reports.sign_ups_through(session, codes),
        )
    return SendReport(
        send_id=send.id,
        title=send.title,
        counts=counts,
        skipped_by_reason=tuple(skipped),
        links=_ordered(links),
        failures=tuple(Failure(*row) for row in failures),
        failures_page=page,
        failures_pages=pages(counts.not_delivered, per_page),
        cascade=cascade,
        from_summary=from_summary,
    )


def bulletin_report(session: Session, bulletin_id: int) -> BulletinReport:
    sends = session.scalars(
        select(Send).where(Send.bulletin_id == bulletin_id).order_by(Send.created_at, Send.id)
    ).all()
    if not sends:
        return BulletinReport(sends=())
    ids = [send.id for send in sends]
    states = _by_state(session, ids)
    unsubscribes = _unsubscribes(session, ids)
    complaints = rates.complaints_by_send(session, ids)
    links = _links(session, ids)
    clicks: dict[int, int] = {}
    by_target: dict[str, LinkClicks] = {}
    for send_id, link in links:
        clicks[send_id] = clicks.get(send_id, 0) + link.clicks
        before = by_target.get(link.target)
        by_target[link.target] = LinkClicks(
            before.label if before else link.label,
            link.target,
            link.kind,
            link.clicks + (before.clicks if before else 0),
        )
    rows = tuple(
        SendRow(
            send_id=send.id,
            title=send.title,
            state=send.state,
            due_at=send.due_at,
            fired_at=send.fired_at,
            counts=_counts(
                states.get(send.id) or _kept_summary(send),
                unsubscribes.get(send.id, 0),
                clicks.get(send.id, 0),
                complaints.get(send.id, 0),
            ),
        )
        for send in sends
    )
    total = Counts()
    for row in rows:
        total = total + row.counts
    return BulletinReport(sends=rows, total=total, links=_ordered(list(by_target.values())))


# --- CSV -------------------------------------------------------------------------------


def csv_sections(
    session: Session, send: Send, report: SendReport
) -> list[tuple[str, list[list[object]]]]:
    """Each table of the report (every failure, not one page), titled, for one CSV."""
    failures = session.execute(
        select(*_FAILURE_COLUMNS)
        .where(Delivery.send_id == send.id, Delivery.state.in_(_NOT_DELIVERED))
        .order_by(Delivery.id.desc())
        .execution_options(yield_per=2000)
    )
    return [
        ("summary", [["measure", "count"], *[list(row) for row in report.summary_rows()]]),
        ("skipped", [["reason", "count"], *[list(row) for row in report.skipped_by_reason]]),
        (
            "links",
            [
                ["label", "address", "kind", "clicks"],
                *[[link.label, link.target, link.kind, link.clicks] for link in report.links],
            ],
        ),
        (
            "failures",
            [
                ["address", "attempts", "reply", "hard_bounce", "state"],
                *[
                    [row.address, row.attempts, row.last_reply, row.hard_bounce, row.state]
                    for row in failures
                ],
            ],
        ),
    ]


def bulletin_csv_sections(report: BulletinReport) -> list[tuple[str, list[list[object]]]]:
    names = [
        "recipients",
        "delivered",
        "failed",
        "waiting",
        "skipped",
        "unsubscribes",
        "clicks",
        "bounced",
        "complaints",
    ]

    def figures(counts: Counts) -> list[object]:
        return [getattr(counts, name) for name in names]

    return [
        (
            "sends",
            [
                ["send", "title", "state", "fired_at", *names],
                *[
                    [
                        row.send_id,
                        row.title,
                        row.state,
                        row.fired_at.isoformat() if row.fired_at else "",
                        *figures(row.counts),
                    ]
                    for row in report.sends
                ],
                ["all", "All sends", "", "", *figures(report.total)],
            ],
        ),
        (
            "links",
            [
                ["label", "address", "kind", "clicks"],
                *[[link.label, link.target, link.kind, link.clicks] for link in report.links],
            ],
        ),
    ]
