"""A consultation's way through its states: submit, approve, return to draft, cancel,
open now, send a missed send now, mark missed, and moving its timeline when the rules
change. Approval freezes what each send delivers and schedules it; the scheduler
process (scheduler/runner.py) only fires what is stored.

Every function takes a session and never commits; the caller owns the transaction."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from mailer import audit, humane_time
from mailer.accounts import roles
from mailer.accounts.models import User
from mailer.audit import actions
from mailer.bulletins import messages
from mailer.bulletins.consultation_facts import FrozenConsultation
from mailer.bulletins.models import Bulletin
from mailer.delivery import send_states, sends
from mailer.delivery.models import (
    SEND_MISSED,
    SEND_PAUSED,
    SEND_SCHEDULED,
    SEND_SENDING,
    Send,
)
from scheduler import approval
from scheduler.consultations.details import ConsultationRefused
from scheduler.consultations.planning import UNFIRED, approved_sends, planned, timeline
from scheduler.consultations.read_models import checks, recipients
from scheduler.models import (
    AWAITING_APPROVAL,
    CANCELLED,
    CLOSED,
    DRAFT,
    SCHEDULED,
    STATE_LABELS,
    Consultation,
)
from scheduler.rules import Rules
from scheduler.timeline import (
    LAUNCH,
    TimelineError,
)

log = logging.getLogger(__name__)
# The office's timezone when a caller does not pass [app] timezone (its default).
OFFICE_TIME = ZoneInfo("Europe/London")


def lock(session: Session, consultation: Consultation) -> None:
    """Hold the consultation's row for the rest of this transaction, read afresh.

    Every change to what an approval covers, and the approval itself, begin here, so
    they happen one after the other: an edit committed while an approval was between
    reading the version and freezing it would otherwise be frozen as approved.
    PostgreSQL takes the row (FOR UPDATE); SQLite's write lock already serialises
    writers. It reloads the row, after writing what this transaction changed so far
    (so two steps in one transaction keep the first's changes)."""
    session.flush()
    session.refresh(consultation, with_for_update=True)


def refuse_if_finished(session: Session, consultation: Consultation, now: datetime) -> None:
    lock(session, consultation)
    if consultation.state == CANCELLED:
        raise ConsultationRefused("This consultation was cancelled; it cannot change.")
    if consultation.phase(now) == CLOSED:
        raise ConsultationRefused("This consultation has closed; it cannot change.")


def submit(session: Session, consultation: Consultation, *, by: User, now: datetime) -> list[str]:
    """Ask for approval. Returns the checks' warnings (they do not stop it)."""
    refuse_if_finished(session, consultation, now)
    if not by.can_edit:
        raise ConsultationRefused(f"{by.email} is a {by.role}; only an editor or admin submits.")
    if consultation.state == AWAITING_APPROVAL:
        raise ConsultationRefused("This consultation is already awaiting approval.")
    if consultation.state != DRAFT:
        raise ConsultationRefused(
            f"Only a draft can be submitted; this one is {consultation.state}."
        )
    if approved_sends(session, consultation) == 0:
        raise ConsultationRefused("Nothing is left to send on this timeline.")
    warnings = checks(session, consultation)
    consultation.state = AWAITING_APPROVAL
    consultation.submitted_at = now
    consultation.submitted_by_id = by.id
    consultation.returned_note = ""
    approval.note(session, consultation, by=by, action=approval.SUBMITTED, part="", now=now)
    audit.record(
        session,
        actions.CONSULTATION_SUBMITTED,
        actor=by,
        target_type="consultation",
        target_id=consultation.id,
        summary=f'Submitted "{consultation.title}" for approval'
        + (f" with {len(warnings)} warning(s): " + " ".join(warnings) if warnings else ""),
    )
    return warnings


def approve(
    session: Session,
    consultation: Consultation,
    *,
    by: User,
    two_person: bool,
    base_url: str,
    now: datetime,
    seen: str | None = None,
    via: str = approval.VIA_ADMIN,
) -> list[str]:
    """Approve as ``by``: freeze what each send not yet made will deliver and schedule
    it. Returns the checks' warnings.

    ``seen`` is the content hash of the version the approver read (the approval page
    posts it back); an approval of any other version is refused. None approves the
    version there is now: the command line, where ``via`` says so in the audit log."""
    refuse_if_finished(session, consultation, now)
    if not by.can_approve:
        raise ConsultationRefused(
            f"{by.email} is an {by.role}; only an approver or an admin can approve."
        )
    if consultation.state == SCHEDULED:
        raise ConsultationRefused("This consultation is already approved.")
    if consultation.state != AWAITING_APPROVAL:
        if seen is not None and consultation.returned_note:
            # The approver's page was of a submitted version that an edit has since
            # withdrawn: say so, rather than telling them to submit it themselves.
            raise ConsultationRefused(
                "Nothing was approved: this consultation went back to draft after you "
                f"opened it. {consultation.returned_note} It needs to be submitted again."
            )
        raise ConsultationRefused("Submit the consultation for approval first.")
    authors = approval.authors(session, consultation)
    if two_person and (refused := approval.refusal(authors, by)):
        raise ConsultationRefused(refused)
    extra = FrozenConsultation.of(consultation, base_url=base_url).extra()
    version = approval.content_hash(session, consultation, extra=extra)
    if seen is not None and seen != version:
        raise ConsultationRefused(
            "Nothing was approved: this consultation changed after you opened it "
            f"(you read version {approval.short(seen) or 'unknown'}; it is now version "
            f"{approval.short(version)}). Read it again, then approve."
        )
    if recipients(session, consultation) == 0:
        raise ConsultationRefused(
            "Nobody would receive it: the audience has no active contact. Add contacts "
            "to its lists, or choose other lists."
        )
    warnings = checks(session, consultation)
    for send in timeline(session, consultation):
        if send.state not in approval.FROZEN_AT_APPROVAL:
            continue
        bulletin = session.get(Bulletin, send.bulletin_id) if send.bulletin_id else None
        if bulletin is None:
            raise ConsultationRefused(f"{send.label} has lost its bulletin; edit the timeline.")
        try:
            frozen = messages.freeze(
                session, bulletin, documents=consultation.documents, extra=extra
            )
        except messages.TemplateUnusable as exc:
            raise ConsultationRefused(f"{send.label}: {exc}") from None
        send_states.schedule(
            send,
            now=now,
            by_id=by.id,
            frozen=frozen.to_json(),
            audience=dict(consultation.audience),
        )
    consultation.state = SCHEDULED
    consultation.approved_at = now
    consultation.approved_by_id = by.id
    consultation.approved_hash = version
    approval.settle(session, consultation, now=now)
    made_by = ", ".join(a.describe() for a in authors) or "nobody recorded"
    audit.record(
        session,
        actions.CONSULTATION_APPROVED,
        actor=by,
        target_type="consultation",
        target_id=consultation.id,
        summary=f'Approved "{consultation.title}" version {approval.short(version)} from '
        f"{via}; made by {made_by}"
        + (f"; despite {len(warnings)} warning(s): " + " ".join(warnings) if warnings else ""),
        detail={
            "content_hash": version,
            "via": via,
            "authors": [a.to_json() for a in authors],
            "warnings": warnings,
        },
    )
    log.info("consultation %s approved by %s from %s", consultation.id, by.email, via)
    return warnings


def _return_to_draft(
    session: Session, consultation: Consultation, *, by: User | None, why: str
) -> int:
    returned = 0
    for send in timeline(session, consultation):
        if send.state in (SEND_SCHEDULED, SEND_MISSED):
            send_states.return_to_draft(send)
            returned += 1
    was_waiting = consultation.state == AWAITING_APPROVAL
    consultation.state = DRAFT
    consultation.approved_at = None
    consultation.approved_by_id = None
    # Shown on its page until it is submitted again: why the approval has to start over.
    who = by.email if by is not None else "the system"
    what = "awaiting approval" if was_waiting else "approved"
    consultation.returned_note = f"It was {what}; {who} {why}."[:500]
    audit.record(
        session,
        actions.CONSULTATION_RETURNED,
        actor=by,
        target_type="consultation",
        target_id=consultation.id,
        summary=f'"{consultation.title}" returned to draft ({who} {why}): '
        f"{_sends(returned)} {'needs' if returned == 1 else 'need'} approval again",
    )
    return returned


def edited_after_submission(
    session: Session, consultation: Consultation, *, by: User | None, why: str
) -> int:
    """Something it would send changed after it was submitted (a message, a template
    it uses): back to draft, saying ``why`` (scheduler/edits.py)."""
    return _return_to_draft(session, consultation, by=by, why=why)


def return_to_draft(
    session: Session, consultation: Consultation, *, by: User, now: datetime
) -> int:
    """Take a submitted or approved consultation back to draft (to change it)."""
    refuse_if_finished(session, consultation, now)
    if consultation.state == DRAFT:
        raise ConsultationRefused("This consultation is already a draft.")
    return _return_to_draft(session, consultation, by=by, why="returned it to draft")


def send_back(
    session: Session, consultation: Consultation, *, by: User, now: datetime, why: str
) -> int:
    """An approver sends a consultation awaiting approval back to draft, to its writer
    (scheduler/reviews/consultation_reviews.py keeps the comment and tells them)."""
    refuse_if_finished(session, consultation, now)
    if not by.can_approve:
        raise ConsultationRefused(
            f"{by.email} is an {by.role}; only an approver or an admin can send it back."
        )
    if consultation.state != AWAITING_APPROVAL:
        raise ConsultationRefused(
            "Only a consultation awaiting approval can be sent back; this one is "
            f"{STATE_LABELS[consultation.state].lower()}."
        )
    return _return_to_draft(session, consultation, by=by, why=why)


def replan(
    session: Session, consultation: Consultation, *, rules: Rules, by: User | None = None
) -> int:
    """Move the sends not yet made to where the rules put them now (a blackout was
    added or removed). An approval given stands: only times move. One awaiting approval
    returns to draft when its timeline moves, since the approver would be reading a
    timeline that is no longer the one to be approved. Returns how many moved."""
    lock(session, consultation)
    if consultation.state == CANCELLED:
        return 0
    moved = 0
    stored = {s.slot: s for s in timeline(session, consultation)}
    try:
        items = planned(consultation, rules)
    except TimelineError as exc:
        log.warning("consultation %s: timeline not moved: %s", consultation.id, exc)
        return 0
    for item in items:
        send = stored.get(item.slot)
        if send is None or send.state not in UNFIRED:
            continue
        if item.due_at is None:
            send_states.leave_out(send)
            send.reasons = [f"left out: {item.dropped}"]
            moved += 1
        elif send.due_at != item.due_at or list(item.reasons) != list(send.reasons):
            send.due_at, send.reasons = item.due_at, list(item.reasons)
            if send.state == SEND_MISSED:
                send_states.reschedule_missed(send)
            moved += 1
    if moved and consultation.state == AWAITING_APPROVAL:
        _return_to_draft(
            session, consultation, by=by, why="changed the blackouts, which moved its timeline"
        )
    return moved


def cancel(session: Session, consultation: Consultation, *, by: User, now: datetime) -> int:
    """Cancel the consultation: nothing more is sent; a send under way stops.
    Returns how many sends were stopped."""
    lock(session, consultation)
    if consultation.state == CANCELLED:
        raise ConsultationRefused("This consultation is already cancelled.")
    stored = timeline(session, consultation)
    # Cancelling approved messages is final, like cancelling a send: the role table
    # keeps it for those who may cancel a send; an unapproved draft is its editor's.
    if any(s.state in (SEND_SCHEDULED, SEND_MISSED, SEND_SENDING, SEND_PAUSED) for s in stored):
        reason = roles.refusal(by, roles.Action.CANCEL_SEND)
        if reason:
            raise ConsultationRefused(reason)
    stopped = 0
    for send in stored:
        if send.state in UNFIRED:
            send_states.cancel(send, now=now)
            stopped += 1
        elif send.state in (SEND_SENDING, SEND_PAUSED):
            sends.cancel(session, send, now=now)
            stopped += 1
    consultation.state = CANCELLED
    consultation.cancelled_at = now
    audit.record(
        session,
        actions.CONSULTATION_CANCELLED,
        actor=by,
        target_type="consultation",
        target_id=consultation.id,
        summary=f'Cancelled "{consultation.title}" ({_sends(stopped)} stopped)',
    )
    return stopped


def send_now(
    session: Session,
    send: Send,
    *,
    by: User,
    now: datetime,
    two_person: bool = True,
    tz: tzinfo = OFFICE_TIME,
) -> None:
    """Fire a missed send now: the scheduler picks it up on its next tick. Under the
    two-person rule, as for Open now, nobody who made the approved version may."""
    if reason := roles.refusal(by, roles.Action.SEND_MISSED_NOW):
        raise ConsultationRefused(reason)
    if send.state != SEND_MISSED:
        raise ConsultationRefused(f"Only a missed send can be sent now; this one is {send.state}.")
    consultation = session.get(Consultation, send.consultation_id) if send.consultation_id else None
    if consultation is not None:
        lock(session, consultation)
        if consultation.state != SCHEDULED:
            raise ConsultationRefused("The consultation is not approved; approve it first.")
        _refuse_authors_of_approved(session, consultation, by=by, two_person=two_person)
    session.refresh(send)
    if send.state != SEND_MISSED:
        raise ConsultationRefused(f"Only a missed send can be sent now; this one is {send.state}.")
    was = send.due_at
    send_states.reschedule_missed(send)
    send.due_at = now
    send.reasons = [
        *send.reasons,
        f"sent late at {by.email}'s request"
        + (f" (was due {humane_time.when(was, tz)})" if was is not None else ""),
    ]
    audit.record(
        session,
        actions.SEND_NOW,
        actor=by,
        target_type="send",
        target_id=send.id,
        summary=f'Sent "{send.title}" now, after it was missed',
    )


def open_now(
    session: Session,
    consultation: Consultation,
    *,
    by: User,
    now: datetime,
    two_person: bool = True,
    tz: tzinfo = OFFICE_TIME,
) -> Send:
    """Open an approved consultation now rather than at its opening time: the launch
    goes on the scheduler's next tick. The approver asks for it deliberately, so quiet
    hours and blackouts do not move it; the rest of the timeline stays as approved.
    It changes an approved timeline, so under the two-person rule nobody who made the
    approved version may do it (the approver, or another who could have approved it)."""
    if not by.can_approve:
        raise ConsultationRefused(
            f"{by.email} is an {by.role}; only an approver or an admin can open it early."
        )
    lock(session, consultation)
    if consultation.state != SCHEDULED:
        raise ConsultationRefused("Approve the consultation first; then it can open now.")
    _refuse_authors_of_approved(session, consultation, by=by, two_person=two_person)
    if consultation.opens_at <= now:
        raise ConsultationRefused("The consultation is already open.")
    stored = timeline(session, consultation)
    launch = next((s for s in stored if s.slot == LAUNCH), None)
    if launch is None or launch.state != SEND_SCHEDULED:
        raise ConsultationRefused(
            "Its launch is not waiting to go, so opening early would send nothing."
        )
    was = consultation.opens_at
    consultation.opens_at = now.replace(microsecond=0)
    # What each approved message knows of the consultation (FrozenConsultation, frozen
    # at approval) includes its opening time; nothing else of what was approved moves.
    for send in stored:
        if send.state != SEND_SCHEDULED or not send.frozen:
            continue
        frozen = messages.Frozen.from_json(send.frozen)
        known = FrozenConsultation.in_extra(frozen.extra)
        if known is not None:
            extra = {**frozen.extra, **known.opened(consultation.opens_at).extra()}
            send.frozen = dataclasses.replace(frozen, extra=extra).to_json()
    launch.due_at = consultation.opens_at
    launch.reasons = [
        *launch.reasons,
        f"opened early at {by.email}'s request (was due {humane_time.when(was, tz)})",
    ]
    audit.record(
        session,
        actions.CONSULTATION_OPENED_EARLY,
        actor=by,
        target_type="consultation",
        target_id=consultation.id,
        summary=f'Opened "{consultation.title}" now instead of {humane_time.when(was, tz)}',
    )
    log.info("consultation %s opened early by %s", consultation.id, by.email)
    return launch


def _refuse_authors_of_approved(
    session: Session, consultation: Consultation, *, by: User, two_person: bool
) -> None:
    """Moving an approved message in time is the approver's decision: under the
    two-person rule, not one for whoever made the version approved."""
    if two_person and by.id in approval.approved_authors(session, consultation):
        raise ConsultationRefused(
            f"You ({by.email}) made the version that was approved, so another approver "
            "must do this (the two-person rule)."
        )


def mark_missed(session: Session, send: Send, *, now: datetime) -> None:
    send_states.mark_missed(send, now=now)
    log.warning(
        "send %s (%s) missed: due %s, more than the grace time ago",
        send.id,
        send.title,
        send.due_at,
    )


def _sends(count: int) -> str:
    """ "1 send", "5 sends": a count as the audit log reads it."""
    return f"{count} send{'' if count == 1 else 's'}"
