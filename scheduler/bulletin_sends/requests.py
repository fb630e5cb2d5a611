"""Asking for a bulletin to be sent on its own: the request (a send submitted for
approval), withdrawing it, and cancelling it.

A bulletin that is not one of a consultation's timeline messages can be sent to any
audience, as soon as it is approved or at a time the writer names. The time is moved
forward out of quiet hours, weekends, bank holidays and blackouts, as a consultation's
launch is, and the send keeps the reasons. An approver then approves it
(approval.py); the scheduler fires it when it is due, as any scheduled send.

Every function takes a session and never commits; the caller owns the transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts import audience as audiences
from contacts.audience import Audience, describe
from mailer import audit, humane_time
from mailer.accounts import key_authors, roles
from mailer.accounts.key_authors import Writer, audit_actor
from mailer.accounts.models import User
from mailer.audit import actions
from mailer.bulletins import compose, messages
from mailer.bulletins.models import Bulletin
from mailer.delivery import send_states, sends
from mailer.delivery.models import (
    SEND_AWAITING_APPROVAL,
    SEND_CANCELLED,
    SEND_DONE,
    SEND_DRAFT,
    SEND_MISSED,
    SEND_PAUSED,
    SEND_SCHEDULED,
    SEND_SENDING,
    Send,
)
from scheduler.consultations import about
from scheduler.consultations import read_models as consultations
from scheduler.rules import NoAllowedTime, Rules

# A send in one of these states was approved as the bulletin is: its words are locked
# (scheduler/edits.py); a copy changes them.
APPROVED_STATES = (SEND_SCHEDULED, SEND_SENDING, SEND_PAUSED, SEND_MISSED, SEND_DONE)


# How far ahead a send may be asked for: further is a typing mistake, not a plan.
MAX_AHEAD = timedelta(days=366)


def a_role(role: str) -> str:
    """ "an editor", "an approver", "an admin"."""
    return f"an {role}" if role[:1] in "aeiou" else f"a {role}"


class SendRefused(Exception):
    """The request, approval or withdrawal cannot be made; the sentence says why."""


def sends_of(session: Session, bulletin: Bulletin, *, lock: bool = False) -> list[Send]:
    """The bulletin's own sends (none of a consultation's timeline), oldest first.
    ``lock`` takes their rows for the rest of the transaction."""
    query = (
        select(Send)
        .where(Send.bulletin_id == bulletin.id, Send.consultation_id.is_(None))
        .order_by(Send.id)
    )
    if lock:
        query = query.with_for_update()
    return list(session.scalars(query))


def awaiting(session: Session, bulletin: Bulletin) -> Send | None:
    """The bulletin's send awaiting approval, if any (there is at most one)."""
    return next((s for s in sends_of(session, bulletin) if s.state == SEND_AWAITING_APPROVAL), None)


def refuse_unsendable(session: Session, bulletin: Bulletin) -> None:
    """Refuse a bulletin that cannot be sent on its own: archived, a consultation's
    own timeline message, or on a template that cannot be used."""
    if bulletin.archived_at is not None:
        raise SendRefused("This bulletin is archived; copy it to send it again.")
    owner = consultations.owner_of(session, bulletin.id)
    if owner is not None:
        raise SendRefused(
            f"This bulletin is the {owner[0].label.lower() or 'timeline'} message of the "
            f'consultation "{owner[1].title}", which sends it; it cannot be sent on its own.'
        )
    try:
        version = messages.current_version(bulletin)
    except messages.TemplateUnusable as exc:
        raise SendRefused(f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from None
    if version.problem:
        raise SendRefused(
            f'The template "{bulletin.template.name}" cannot be used until its problem is '
            f"fixed: {version.problem}"
        )


def refuse_empty(session: Session, audience: Audience) -> int:
    """The audience's reachable count; refuses an audience that reaches nobody."""
    if audience.empty:
        raise SendRefused("Choose at least one list or organisation type to send to.")
    reachable = audiences.summarise(session, audience, sample=0).reachable
    if reachable == 0:
        raise SendRefused(
            "Nobody would receive it: the audience has no contact who can be sent to now."
        )
    return reachable


def moved_time(rules: Rules, at: datetime, *, why: str = "") -> tuple[datetime, list[str]]:
    """``at`` moved forward out of the times nothing is sent, with the reasons."""
    try:
        moved = rules.later(at)
    except NoAllowedTime as exc:
        raise SendRefused(f"The sending rules leave no time to send it: {exc}.") from None
    reasons = [why] if why else []
    return moved.at, reasons + list(moved.reasons)


def request(
    session: Session,
    bulletin: Bulletin,
    *,
    audience: Audience,
    at: datetime | None,
    by: Writer,
    now: datetime,
    rules: Rules,
) -> Send:
    """Submit the bulletin for approval, to ``audience``, at ``at`` (None: as soon as
    it is approved). Returns the new send, awaiting approval."""
    if not by.can_edit:
        raise SendRefused(
            f"{by.email} is {a_role(by.role)}; only an editor or admin sends a bulletin."
        )
    refuse_unsendable(session, bulletin)
    if not bulletin.body_markdown.strip():
        raise SendRefused("The message has no words yet; write them before sending it.")
    if reason := about.unpublished(session, bulletin):
        raise SendRefused(reason)
    if at is not None and at.tzinfo is None:
        raise SendRefused("The time to send needs a timezone.")
    if at is not None and at <= now:
        raise SendRefused(
            f"{rules.local(at):%d %B %Y %H:%M} has passed; choose a later time or "
            '"as soon as approved".'
        )
    if at is not None and at - now > MAX_AHEAD:
        raise SendRefused(
            f"{at:%d %B %Y} is more than a year away; choose a time within the next year."
        )
    own = sends_of(session, bulletin, lock=True)
    # One request at a time: the approver approves "its send awaiting approval".
    if any(s.state == SEND_AWAITING_APPROVAL for s in own):
        raise SendRefused(
            "This bulletin already has a send awaiting approval; approve or withdraw it first."
        )
    refuse_empty(session, audience)
    due_at, reasons = (None, []) if at is None else moved_time(rules, at)
    # A send withdrawn to draft is submitted again rather than left behind beside a new one.
    send = next((s for s in own if s.state == SEND_DRAFT), None)
    if send is None:
        send = Send(bulletin_id=bulletin.id, kind=bulletin.kind, state=SEND_DRAFT)
        session.add(send)
    send.title = bulletin.subject
    send.audience = audience.to_json()
    send.requested_at = at
    send.due_at = due_at
    send.reasons = reasons
    session.flush()
    send_states.submit(send, now=now, by_id=by.id)
    who = describe(session, audience)
    compose.note(session, bulletin, by=by, action=compose.SUBMITTED, part=f"the send to {who}")
    when = (
        "as soon as it is approved"
        if due_at is None
        else f"on {humane_time.when(due_at, rules.timezone)}"
    )
    audit.record(
        session,
        actions.BULLETIN_SEND_SUBMITTED,
        **audit_actor(by),
        target_type="send",
        target_id=send.id,
        summary=f'Submitted "{bulletin.subject}" for approval: to {who}, {when}'
        + (f" ({'; '.join(reasons)})" if reasons else ""),
        detail={"bulletin_id": bulletin.id, "audience": audience.to_json()},
    )
    return send


def withdraw(session: Session, send: Send, *, by: Writer, note: str = "") -> None:
    """Take a send awaiting approval back to draft (its submitter, or an editor)."""
    session.refresh(send, with_for_update=True)
    if not (by.can_edit or by.id == send.submitted_by_id):
        raise SendRefused(f"{by.email} is {a_role(by.role)}; only its submitter or an editor may.")
    if send.state != SEND_AWAITING_APPROVAL:
        raise SendRefused(
            f"Only a send awaiting approval can be withdrawn; this one is {send.state}."
        )
    withdrawn(session, send, by=by, why=note.strip() or f"{key_authors.named(by)} withdrew it")


def withdrawn(session: Session, send: Send, *, by: Writer | None, why: str) -> None:
    """Back to draft because something it would send changed (an edit, a template, the
    organisation settings): ``why`` is shown to whoever submits it next."""
    send_states.withdraw(send, note=why)
    audit.record(
        session,
        actions.BULLETIN_SEND_WITHDRAWN,
        **audit_actor(by),
        target_type="send",
        target_id=send.id,
        summary=f'Withdrew "{send.title}" to draft: {why}',
    )


def waiting_sends(session: Session, *, template_id: int | None = None) -> list[Send]:
    """Bulletin sends awaiting approval (those whose bulletin uses the template, if
    given), their rows taken for the rest of the transaction."""
    query = select(Send).where(Send.state == SEND_AWAITING_APPROVAL, Send.consultation_id.is_(None))
    if template_id is not None:
        query = query.where(
            Send.bulletin_id.in_(select(Bulletin.id).where(Bulletin.template_id == template_id))
        )
    return list(session.scalars(query.order_by(Send.id).with_for_update()))


def cancel(session: Session, send: Send, *, by: User, now: datetime) -> int:
    """Stop an approved send for good (as /admin/sends does). Returns the rows skipped."""
    if reason := roles.refusal(by, roles.Action.CANCEL_SEND):
        raise SendRefused(reason)
    session.refresh(send, with_for_update=True)
    if send.state in (SEND_DONE, SEND_CANCELLED):
        raise SendRefused(f"This send is already {send.state}.")
    try:
        skipped = sends.cancel(session, send, now=now)
    except sends.SendRefused as exc:
        raise SendRefused(str(exc)) from None
    audit.record(
        session,
        actions.SEND_CANCELLED,
        actor=by,
        target_type="send",
        target_id=send.id,
        summary=f'Cancelled "{send.title}" ({skipped} waiting deliveries skipped)',
    )
    return skipped
