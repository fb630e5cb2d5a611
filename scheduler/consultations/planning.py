"""A consultation's timeline as stored: the sends table is the plan. Each planned send
(launch, reminders, close notice) is a row in ``sends`` with its own bulletin, made and
moved here when the consultation changes.

Every function takes a session and never commits; the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from mailer.accounts.models import User
from mailer.bulletins import compose
from mailer.bulletins.models import Bulletin
from mailer.delivery import send_states
from mailer.delivery.models import (
    SEND_DRAFT,
    Send,
)
from mailer.email_templates.family import MEMBERS
from scheduler.models import (
    Blackout,
    Consultation,
)
from scheduler.rules import Blackout as BlackoutRule
from scheduler.rules import Rules
from scheduler.timeline import (
    CLOSE_NOTICE,
    LAUNCH,
    REMINDER,
    PlannedSend,
    ReminderSpec,
    plan,
)

# Sends the timeline may still move (not yet fired): the state machine's UNFIRED.
UNFIRED = send_states.UNFIRED


DEFAULT_BODIES = {
    LAUNCH: (
        "We would like to hear your views.\n\n"
        "Please take part, and pass this message on to your networks, members and "
        "service users: the more people who respond, the better the result will be."
    ),
    REMINDER: (
        "Thank you to everyone who has already taken part.\n\n"
        "If you have not yet had your say, there is still time. Please also remind "
        "your networks: every response is read."
    ),
    CLOSE_NOTICE: (
        "Thank you to everyone who took part and to every partner who passed the "
        "message on.\n\n"
        "We are now reading every response. We will publish what we heard and how it "
        "shaped the final plan."
    ),
}


def rules_for(session: Session, config: Any) -> Rules:
    """The sending rules: the configuration's, and the blackouts kept in the database."""
    blackouts = tuple(
        BlackoutRule(b.starts_at, b.ends_at, b.reason)
        for b in session.scalars(select(Blackout).order_by(Blackout.starts_at))
    )
    return Rules.from_config(config, blackouts=blackouts)


def reminder_specs(consultation: Consultation) -> tuple[ReminderSpec, ...]:
    return tuple(
        ReminderSpec(timedelta(seconds=r["before"]), morning=bool(r.get("morning")))
        for r in consultation.reminders
    )


def planned(consultation: Consultation, rules: Rules) -> list[PlannedSend]:
    """The timeline the rules give now, dropped sends included (for the timeline page)."""
    after = consultation.close_notice_after
    return plan(
        opens_at=consultation.opens_at,
        closes_at=consultation.closes_at,
        rules=rules,
        reminders=reminder_specs(consultation),
        close_notice_after=None if after is None else timedelta(seconds=after),
    )


def timeline(session: Session, consultation: Consultation) -> list[Send]:
    return list(
        session.scalars(
            select(Send)
            .where(Send.consultation_id == consultation.id)
            .order_by(Send.due_at, Send.id)
        )
    )


def approved_sends(session: Session, consultation: Consultation) -> int:
    """How many sends not yet made an edit would return to approval."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Send)
            .where(Send.consultation_id == consultation.id, Send.state.in_(UNFIRED))
        )
        or 0
    )


def store_plan(
    session: Session,
    consultation: Consultation,
    planned_sends: Sequence[PlannedSend],
    *,
    by: User,
    launch_body: str = "",
) -> None:
    """Make the stored sends match the plan: move those not yet made, add new ones with
    their own bulletin, remove those no longer planned. Sends already made stay."""
    stored = {s.slot: s for s in timeline(session, consultation)}
    wanted = {p.slot for p in planned_sends if p.due_at is not None}
    for slot, unplanned in stored.items():
        if slot not in wanted and unplanned.state in UNFIRED:
            bulletin_id = unplanned.bulletin_id
            session.delete(unplanned)
            session.flush()
            if bulletin_id is not None:
                session.execute(delete(Bulletin).where(Bulletin.id == bulletin_id))
    for item in planned_sends:
        if item.due_at is None:
            continue
        send = stored.get(item.slot)
        if send is not None and send.state not in UNFIRED:
            continue  # made already: history, not plan
        if send is None:
            bulletin = _new_bulletin(
                session,
                consultation,
                item.kind,
                by=by,
                body=launch_body if item.kind == LAUNCH else "",
            )
            send = Send(
                consultation_id=consultation.id,
                bulletin_id=bulletin.id,
                kind=item.kind,
                slot=item.slot,
                state=SEND_DRAFT,
                audience={},
            )
            session.add(send)
        send.title = f"{consultation.title}: {item.label}"[:300]
        send.label = item.label
        send.planned_at = item.planned_at
        send.due_at = item.due_at
        send.reasons = list(item.reasons)
        send.audience = dict(consultation.audience)
    session.flush()


def _new_bulletin(
    session: Session, consultation: Consultation, kind: str, *, by: User, body: str
) -> Bulletin:
    member = next(m for m in MEMBERS if m.kind == kind)
    draft = compose.Draft(
        kind=kind,
        template_id=None,
        subject=member.default_subject.format(title=consultation.title)[: compose.MAX_SUBJECT],
        preheader="",
        body_markdown=body.strip() or DEFAULT_BODIES[kind],
        # The launch carries the documents; later messages link to them.
        link_documents=kind != LAUNCH,
    )
    return compose.create(session, draft, by=by)
