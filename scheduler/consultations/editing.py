"""Creating a consultation and saving an edit of it: the check, then the stored timeline
made to match.

Every function takes a session and never commits; the caller owns the transaction."""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts.models import ContactList
from mailer import audit
from mailer.accounts.models import User
from mailer.audit import actions
from scheduler import approval
from scheduler.consultations.details import Details, NeedsConfirmation, check
from scheduler.consultations.lifecycle import edited_after_submission, refuse_if_finished
from scheduler.consultations.planning import approved_sends, store_plan
from scheduler.models import (
    AWAITING_APPROVAL,
    DRAFT,
    SCHEDULED,
    Consultation,
)
from scheduler.rules import Rules

log = logging.getLogger(__name__)


def create(
    session: Session, details: Details, *, by: User, rules: Rules, now: datetime
) -> tuple[Consultation, list[str]]:
    """A draft consultation with its timeline of sends. Returns it and any warnings
    (a default reminder left out, say)."""
    checked = check(session, details, rules=rules, now=now, current=None)
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
    store_plan(session, consultation, checked.planned, by=by, launch_body=details.launch_body)
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
    refuse_if_finished(session, consultation, now)
    checked = check(session, details, rules=rules, now=now, current=consultation)
    if consultation.state in (AWAITING_APPROVAL, SCHEDULED) and not confirmed:
        waiting = approved_sends(session, consultation)
        where = "approved" if consultation.state == SCHEDULED else "awaiting approval"
        raise NeedsConfirmation(
            f"This consultation is {where}. "
            f"Saving a change returns its {waiting} send(s) not yet made to draft: nothing "
            "more goes out until it is submitted and approved again. Sends already made "
            "stay as they are."
        )
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
        edited_after_submission(session, consultation, by=by, why=why)
    store_plan(session, consultation, checked.planned, by=by)
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
