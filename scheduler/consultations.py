"""Consultations and their timelines: create, edit, submit, approve, cancel, send now.

The sends table is the plan: each planned send of a consultation (launch, reminders,
close notice) is a row in ``sends`` with its own bulletin, made here and moved here
when the consultation changes. Approval freezes what each send delivers and sets it
scheduled; the scheduler process (scheduler/runner.py) only fires what is stored.

Every function takes a session and never commits; the caller owns the transaction.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from contacts.audience import audience_contacts
from contacts.models import ACTIVE, ContactList, OrganisationType
from mailer import audit
from mailer.accounts import roles
from mailer.accounts.models import User
from mailer.audit import actions
from mailer.bulletins import compose, context, files, messages
from mailer.bulletins.models import Bulletin
from mailer.delivery import sends
from mailer.delivery.models import (
    SEND_CANCELLED,
    SEND_DRAFT,
    SEND_MISSED,
    SEND_PAUSED,
    SEND_SCHEDULED,
    SEND_SENDING,
    Send,
)
from mailer.email_templates.family import MEMBERS
from mailer.organisation.service import check_url
from mailer.rendering.mime import one_line
from scheduler import approval, statutory
from scheduler.models import (
    AWAITING_APPROVAL,
    CANCELLED,
    CLOSED,
    DRAFT,
    SCHEDULED,
    TYPE_GENERAL,
    TYPE_LABELS,
    Blackout,
    Consultation,
    ConsultationDocument,
)
from scheduler.rules import Blackout as BlackoutRule
from scheduler.rules import Rules
from scheduler.timeline import (
    BEFORE_OPENING,
    CLOSE_NOTICE,
    DEFAULT_REMINDERS,
    LAUNCH,
    REMINDER,
    PlannedSend,
    ReminderSpec,
    TimelineError,
    plan,
)

log = logging.getLogger(__name__)

MAX_TITLE = 300
MAX_SUMMARY = 5000
# An opening a moment ago is "now" (a form filled in slowly), not a time in the past.
OPENING_SLACK = timedelta(minutes=5)
# Sends the timeline may still move: not yet fired.
UNFIRED = (SEND_DRAFT, SEND_SCHEDULED, SEND_MISSED)

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


class ConsultationInvalid(Exception):
    """Field name -> what is wrong with it, for the form or the command line."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class ConsultationRefused(Exception):
    """The step does not fit the consultation's state or the person; says why."""


class NeedsConfirmation(Exception):
    """The edit would return an approved timeline to approval: ask first."""


@dataclass(frozen=True)
class Details:
    """What the form or ``mailer consultation create`` gives."""

    title: str
    opens_at: datetime
    closes_at: datetime
    survey_url: str
    summary: str = ""
    type: str = TYPE_GENERAL
    lists: tuple[int, ...] = ()
    organisation_types: tuple[int, ...] = ()
    reminders: tuple[ReminderSpec, ...] | None = None  # None: the defaults
    close_notice_after: timedelta | None = None
    late_joiners: bool = True
    # With [tracking] per_person: reminders leave out who followed the survey link.
    skip_responders: bool = False
    launch_body: str = ""  # the launch bulletin's words, on creation


@dataclass
class Checked:
    values: dict[str, Any]
    planned: list[PlannedSend]
    warnings: list[str] = field(default_factory=list)


# --- rules and planning -----------------------------------------------------------------


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


# --- checking what was asked ------------------------------------------------------------


def _check(
    session: Session,
    details: Details,
    *,
    rules: Rules,
    now: datetime,
    current: Consultation | None,
) -> Checked:
    errors: dict[str, str] = {}
    warnings: list[str] = []
    title = one_line(details.title)
    if not title:
        errors["title"] = "Give the consultation a title."
    elif len(title) > MAX_TITLE:
        errors["title"] = f"Use at most {MAX_TITLE} characters."
    summary = details.summary.replace("\r\n", "\n").strip()
    if len(summary) > MAX_SUMMARY:
        errors["summary"] = f"Keep the summary under {MAX_SUMMARY:,} characters."
    survey_url = details.survey_url.strip()
    if not survey_url:
        errors["survey_url"] = "Give the address of the survey people should fill in."
    elif problem := check_url(survey_url):
        errors["survey_url"] = problem
    if details.type not in TYPE_LABELS:
        errors["type"] = "Choose what kind of consultation this is."
    opens_at, closes_at = details.opens_at, details.closes_at
    if opens_at.tzinfo is None or closes_at.tzinfo is None:
        raise ValueError("opening and closing times need a timezone")
    opening_kept = current is not None and current.opens_at == opens_at
    if closes_at <= now:
        errors["closes_at"] = (
            f"The closing time ({_shown(rules, closes_at)}) has passed; choose a later one."
        )
    elif closes_at <= opens_at:
        errors["closes_at"] = "The consultation must close after it opens."
    if opens_at < now - OPENING_SLACK and not opening_kept:
        errors["opens_at"] = (
            f"The opening time ({_shown(rules, opens_at)}) has passed; choose a time from now on."
        )
    lists = sorted(set(details.lists))
    if lists:
        found = set(session.scalars(select(ContactList.id).where(ContactList.id.in_(lists))))
        if missing := [i for i in lists if i not in found]:
            errors["lists"] = f"No list has the id {', '.join(map(str, missing))}."
    types = sorted(set(details.organisation_types))
    if types:
        found = set(
            session.scalars(select(OrganisationType.id).where(OrganisationType.id.in_(types)))
        )
        if missing := [i for i in types if i not in found]:
            errors["organisation_types"] = (
                f"No organisation type has the id {', '.join(map(str, missing))}."
            )
    reminders = DEFAULT_REMINDERS if details.reminders is None else details.reminders
    if len({r.slot for r in reminders}) != len(reminders):
        errors["reminders"] = "The same reminder is given twice."
    planned_sends: list[PlannedSend] = []
    if not errors:
        try:
            planned_sends = plan(
                opens_at=opens_at,
                closes_at=closes_at,
                rules=rules,
                reminders=reminders,
                close_notice_after=details.close_notice_after,
            )
        except TimelineError as exc:
            errors["closes_at"] = str(exc)[:1].upper() + str(exc)[1:] + "."
    for item in planned_sends:
        if item.due_at is not None:
            continue
        # A reminder asked for as an exact time before the close is an error when it
        # cannot go; a morning one (the defaults, or ticked in the form) is left out.
        if item.dropped == BEFORE_OPENING and item.slot.endswith(":exact"):
            errors["reminders"] = (
                f"{item.label} would go on {_shown(rules, item.planned_at)}, before the "
                "consultation opens; choose a shorter time before the close."
            )
        else:
            warnings.append(f"{item.label} is left out: {item.dropped}.")
    if errors:
        raise ConsultationInvalid(errors)
    values = {
        "title": title,
        "summary": summary,
        "type": details.type,
        "opens_at": opens_at,
        "closes_at": closes_at,
        "survey_url": survey_url,
        "audience": {"lists": lists, "organisation_types": types},
        "reminders": [
            {"before": int(r.before.total_seconds()), "morning": r.morning} for r in reminders
        ],
        "close_notice_after": (
            None
            if details.close_notice_after is None
            else int(details.close_notice_after.total_seconds())
        ),
        "late_joiners": bool(details.late_joiners),
        "skip_responders": bool(details.skip_responders),
    }
    return Checked(values, planned_sends, warnings)


def _shown(rules: Rules, moment: datetime) -> str:
    return rules.local(moment).strftime("%a %d %b %Y %H:%M")


# --- creating and editing ---------------------------------------------------------------


def create(
    session: Session, details: Details, *, by: User, rules: Rules, now: datetime
) -> tuple[Consultation, list[str]]:
    """A draft consultation with its timeline of sends. Returns it and any warnings
    (a default reminder left out, say)."""
    checked = _check(session, details, rules=rules, now=now, current=None)
    consultation = Consultation(
        **checked.values,
        slug=_unique_slug(session, checked.values["title"]),
        state=DRAFT,
        created_by_id=by.id,
    )
    session.add(consultation)
    session.flush()
    # Where confirmed "register for updates" sign-ups go: part of the audience, so they
    # get the reminders and the close notice (and the launch, as late joiners).
    signups = ContactList(
        name=f"Registered for updates: {consultation.title[:80]} (#{consultation.id})",
        description=f'People who asked for updates on "{consultation.title}" on its page.',
    )
    session.add(signups)
    session.flush()
    consultation.signup_list_id = signups.id
    consultation.audience = {
        **consultation.audience,
        "lists": sorted({*consultation.audience.get("lists", []), signups.id}),
    }
    _store_plan(session, consultation, checked.planned, by=by, launch_body=details.launch_body)
    approval.note(
        session, consultation, by=by, action=approval.CREATED, part="the consultation", now=now
    )
    audit.record(
        session,
        actions.CONSULTATION_CREATED,
        actor=by,
        target_type="consultation",
        target_id=consultation.id,
        summary=f'Created the consultation "{consultation.title}"',
    )
    log.info("consultation %s created by %s", consultation.id, by.email)
    return consultation, checked.warnings


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


def update(
    session: Session,
    consultation: Consultation,
    details: Details,
    *,
    by: User,
    rules: Rules,
    now: datetime,
    confirmed: bool = False,
) -> list[str]:
    """Save an edit and re-plan the sends not yet made. An edit after submission or
    approval returns those sends to approval, so it needs ``confirmed`` (the warning
    is the NeedsConfirmation message)."""
    _refuse_if_finished(session, consultation, now)
    if consultation.state in (AWAITING_APPROVAL, SCHEDULED) and not confirmed:
        waiting = approved_sends(session, consultation)
        where = "approved" if consultation.state == SCHEDULED else "awaiting approval"
        raise NeedsConfirmation(
            f"This consultation is {where}. "
            f"Saving a change returns its {waiting} send(s) not yet made to draft: nothing "
            "more goes out until it is submitted and approved again. Sends already made "
            "stay as they are."
        )
    checked = _check(session, details, rules=rules, now=now, current=consultation)
    if consultation.signup_list_id is not None:
        # The sign-up list stays in the audience whatever the form says.
        audience = checked.values["audience"]
        audience["lists"] = sorted({*audience["lists"], consultation.signup_list_id})
    changed = [
        name for name, value in checked.values.items() if getattr(consultation, name) != value
    ]
    for name in changed:
        setattr(consultation, name, checked.values[name])
    if consultation.state != DRAFT:
        why = f"edited its {approval.fields_part(changed)}" if changed else "saved it unchanged"
        _return_to_draft(session, consultation, by=by, why=why)
    _store_plan(session, consultation, checked.planned, by=by)
    if changed:
        approval.note(
            session,
            consultation,
            by=by,
            action=approval.EDITED,
            part=approval.fields_part(changed),
            now=now,
        )
        audit.record(
            session,
            actions.CONSULTATION_CHANGED,
            actor=by,
            target_type="consultation",
            target_id=consultation.id,
            summary=f'Edited "{consultation.title}": {", ".join(changed)}',
        )
    return checked.warnings


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
            send.state = SEND_CANCELLED
            send.reasons = [f"left out: {item.dropped}"]
            moved += 1
        elif send.due_at != item.due_at or list(item.reasons) != list(send.reasons):
            send.due_at, send.reasons = item.due_at, list(item.reasons)
            if send.state == SEND_MISSED:
                send.state, send.missed_at = SEND_SCHEDULED, None
            moved += 1
    if moved and consultation.state == AWAITING_APPROVAL:
        _return_to_draft(
            session, consultation, by=by, why="changed the blackouts, which moved its timeline"
        )
    return moved


def _store_plan(
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
    for slot, send in stored.items():
        if slot not in wanted and send.state in UNFIRED:
            bulletin_id = send.bulletin_id
            session.delete(send)
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


def _unique_slug(session: Session, title: str) -> str:
    base = slugify(title) or "consultation"
    slug, n = base, 1
    while session.scalar(select(Consultation.id).where(Consultation.slug == slug)) is not None:
        n += 1
        slug = f"{base}-{n}"
    return slug


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:80].rstrip("-")


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


def _refuse_if_finished(session: Session, consultation: Consultation, now: datetime) -> None:
    lock(session, consultation)
    if consultation.state == CANCELLED:
        raise ConsultationRefused("This consultation was cancelled; it cannot change.")
    if consultation.phase(now) == CLOSED:
        raise ConsultationRefused("This consultation has closed; it cannot change.")


# --- documents --------------------------------------------------------------------------


def add_document(
    session: Session,
    consultation: Consultation,
    *,
    filename: str,
    data: bytes,
    title: str = "",
    alternative_url: str = "",
    folder: Path,
    limit_bytes: int,
    by: User,
) -> ConsultationDocument:
    """Attach a document (the draft plan). Only a draft changes: what an approval
    froze stays as approved."""
    lock(session, consultation)
    if consultation.state != DRAFT:
        raise ConsultationRefused(
            "Documents can be changed while the consultation is a draft; edit it first "
            "to return it to draft."
        )
    name, kind = files.check(filename, data)
    alternative_url = alternative_url.strip()
    if problem := check_url(alternative_url):
        raise files.FileRefused(f"The web version's address: {problem}")
    files.check_room(
        name,
        len(data),
        used=sum(d.file.size for d in consultation.documents),
        limit_bytes=limit_bytes,
        taken=[d.filename for d in consultation.documents],
        owner="This consultation",
        what="the consultation's documents",
        advice="The launch carries them all: make the file smaller.",
    )
    stored = files.store(session, folder, data, kind.content_type)
    document = ConsultationDocument(
        file=stored,
        filename=name,
        title=one_line(title)[:255] or Path(name).stem,
        position=len(consultation.documents),
        alternative_url=alternative_url,
    )
    consultation.documents.append(document)
    session.flush()
    approval.note(
        session, consultation, by=by, action=approval.EDITED, part=f"documents: added {name}"
    )
    audit.record(
        session,
        actions.CONSULTATION_DOCUMENT_ADDED,
        actor=by,
        target_type="consultation",
        target_id=consultation.id,
        summary=f'Added {name} ({files.human_size(len(data))}) to "{consultation.title}"',
    )
    return document


def remove_document(
    session: Session, consultation: Consultation, document_id: int, *, by: User
) -> str:
    lock(session, consultation)
    if consultation.state != DRAFT:
        raise ConsultationRefused(
            "Documents can be changed while the consultation is a draft; edit it first."
        )
    document = next((d for d in consultation.documents if d.id == document_id), None)
    if document is None:
        raise LookupError("that document is not on this consultation")
    consultation.documents.remove(document)
    for position, remaining in enumerate(consultation.documents):
        remaining.position = position
    approval.note(
        session,
        consultation,
        by=by,
        action=approval.EDITED,
        part=f"documents: removed {document.filename}",
    )
    audit.record(
        session,
        actions.CONSULTATION_DOCUMENT_REMOVED,
        actor=by,
        target_type="consultation",
        target_id=consultation.id,
        summary=f'Removed {document.filename} from "{consultation.title}"',
    )
    return document.filename


# --- approval ---------------------------------------------------------------------------


def recipients(session: Session, consultation: Consultation) -> int:
    """Active contacts in the audience: who the launch would go to now."""
    audience = audience_contacts(session, consultation.audience).subquery()
    return (
        session.scalar(
            select(func.count()).select_from(audience).where(audience.c.status == ACTIVE)
        )
        or 0
    )


def checks(session: Session, consultation: Consultation) -> list[str]:
    """What a submitter and an approver should know: missing statutory audiences,
    nobody to send to, no documents for a plan."""
    found = statutory.warnings(session, consultation)
    if recipients(session, consultation) == 0:
        found.insert(0, "Nobody would receive it: the audience has no active contact.")
    if not consultation.documents and consultation.type != TYPE_GENERAL:
        found.append("No document is attached: people are asked to read the draft.")
    return found


def submit(session: Session, consultation: Consultation, *, by: User, now: datetime) -> list[str]:
    """Ask for approval. Returns the checks' warnings (they do not stop it)."""
    _refuse_if_finished(session, consultation, now)
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
    _refuse_if_finished(session, consultation, now)
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
    extra = {"consultation": consultation_extra(consultation, base_url)}
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
        send.frozen = frozen.to_json()
        send.audience = dict(consultation.audience)
        send.state = SEND_SCHEDULED
        send.missed_at = None
        send.approved_at = now
        send.approved_by_id = by.id
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


def consultation_extra(consultation: Consultation, base_url: str) -> dict[str, str]:
    """What a frozen message knows of its consultation (mailer/delivery/worker.py)."""
    return {
        "title": consultation.title,
        "summary": consultation.summary,
        "opens_at": consultation.opens_at.isoformat(),
        "closes_at": consultation.closes_at.isoformat(),
        "page_url": page_url(consultation, base_url),
        "survey_url": consultation.survey_url,
        "slug": consultation.slug,
        "id": consultation.id,  # type: ignore[dict-item]
    }


def version(session: Session, consultation: Consultation, *, base_url: str) -> str:
    """The content hash of what an approval now would freeze (scheduler/approval.py)."""
    extra = {"consultation": consultation_extra(consultation, base_url)}
    return approval.content_hash(session, consultation, extra=extra)


def page_url(consultation: Consultation, base_url: str) -> str:
    return f"{base_url.rstrip('/')}/consultations/{consultation.slug}"


def _return_to_draft(
    session: Session, consultation: Consultation, *, by: User | None, why: str
) -> int:
    returned = 0
    for send in timeline(session, consultation):
        if send.state in (SEND_SCHEDULED, SEND_MISSED):
            send.state = SEND_DRAFT
            send.frozen = None
            send.approved_at = None
            send.approved_by_id = None
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
        f"{returned} send(s) need approval again",
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
    _refuse_if_finished(session, consultation, now)
    if consultation.state == DRAFT:
        raise ConsultationRefused("This consultation is already a draft.")
    return _return_to_draft(session, consultation, by=by, why="returned it to draft")


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
            send.state = SEND_CANCELLED
            send.finished_at = now
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
        summary=f'Cancelled "{consultation.title}" ({stopped} send(s) stopped)',
    )
    return stopped


def send_now(
    session: Session, send: Send, *, by: User, now: datetime, two_person: bool = True
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
    send.state = SEND_SCHEDULED
    send.due_at = now
    send.missed_at = None
    send.reasons = [
        *send.reasons,
        f"sent late at {by.email}'s request (was due {was:%Y-%m-%d %H:%M} UTC)",
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
    # What each approved message knows of the consultation (consultation_extra, frozen
    # at approval) includes its opening time; nothing else of what was approved moves.
    for send in stored:
        if send.state != SEND_SCHEDULED or not send.frozen:
            continue
        frozen = messages.Frozen.from_json(send.frozen)
        if "consultation" in frozen.extra:
            known = {**frozen.extra["consultation"], "opens_at": consultation.opens_at.isoformat()}
            extra = {**frozen.extra, "consultation": known}
            send.frozen = dataclasses.replace(frozen, extra=extra).to_json()
    launch.due_at = consultation.opens_at
    launch.reasons = [
        *launch.reasons,
        f"opened early at {by.email}'s request (was due {was:%Y-%m-%d %H:%M} UTC)",
    ]
    audit.record(
        session,
        actions.CONSULTATION_OPENED_EARLY,
        actor=by,
        target_type="consultation",
        target_id=consultation.id,
        summary=f'Opened "{consultation.title}" now instead of {was:%Y-%m-%d %H:%M} UTC',
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
    send.state = SEND_MISSED
    send.missed_at = now
    log.warning(
        "send %s (%s) missed: due %s, more than the grace time ago",
        send.id,
        send.title,
        send.due_at,
    )


# --- reading ----------------------------------------------------------------------------


def public_condition() -> Any:
    """SQL: the consultation is public. Once approved, or once any of its messages went
    (a later edit returns it to draft, but the links people hold keep working)."""
    went = (
        select(Send.id)
        .where(Send.consultation_id == Consultation.id, Send.fired_at.is_not(None))
        .exists()
    )
    return or_(Consultation.approved_at.is_not(None), went)


def owner_of(session: Session, bulletin_id: int) -> tuple[Send, Consultation] | None:
    """The timeline send and consultation a bulletin was made for, if any."""
    row = session.execute(
        select(Send, Consultation)
        .join(Consultation, Consultation.id == Send.consultation_id)
        .where(Send.bulletin_id == bulletin_id)
    ).first()
    return None if row is None else (row[0], row[1])


def locked_reason(session: Session, bulletin_id: int) -> str | None:
    """Why a consultation's message cannot be edited now (approved or sent), or None."""
    found = owner_of(session, bulletin_id)
    if found is None or found[0].state == SEND_DRAFT:
        return None
    send, consultation = found
    return (
        f'This message is part of "{consultation.title}" and was approved as it is '
        f"({send.state}). Return the consultation to draft to change a message not yet sent."
    )


def view_of(consultation: Consultation, base_url: str) -> context.ConsultationView:
    """The consultation as a message shows it (previews of its messages)."""
    return context.ConsultationView(
        title=consultation.title,
        summary=consultation.summary,
        opens_at=consultation.opens_at,
        closes_at=consultation.closes_at,
        page_url=page_url(consultation, base_url),
        survey_url=consultation.survey_url,
    )


def find(session: Session, key: str | int) -> Consultation | None:
    """By id, or by slug."""
    text = str(key)
    if text.isdigit():
        return session.get(Consultation, int(text))
    return session.scalar(select(Consultation).where(Consultation.slug == text))


def to_json(session: Session, consultation: Consultation, *, now: datetime) -> dict[str, Any]:
    """The object ``mailer consultation show --json`` prints: ``id``, ``state`` and
    ``sends``, each with ``kind``, ``due_at``, ``fired_at``, ``state`` and ``counts``."""
    items = []
    for send in timeline(session, consultation):
        progress = sends.progress(session, send.id)
        items.append(
            {
                "id": send.id,
                "kind": send.kind,
                "label": send.label,
                "planned_at": _iso(send.planned_at),
                "due_at": _iso(send.due_at),
                "fired_at": _iso(send.fired_at),
                "state": send.state,
                "reasons": list(send.reasons),
                "counts": {
                    "queued": progress.queued + progress.sending,
                    "sent": progress.sent,
                    "failed": progress.failed,
                    "skipped": progress.skipped,
                },
            }
        )
    return {
        "id": consultation.id,
        "slug": consultation.slug,
        "title": consultation.title,
        "type": consultation.type,
        "state": consultation.phase(now),
        "opens_at": _iso(consultation.opens_at),
        "closes_at": _iso(consultation.closes_at),
        "survey_url": consultation.survey_url,
        "recipients": recipients(session, consultation),
        "sends": items,
    }


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
