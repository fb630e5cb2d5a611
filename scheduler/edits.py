"""Edits made elsewhere that change what a consultation would send: the words of one
of its messages (the bulletin editor), the templates its messages use and the
organisation settings every message shows.

Whatever a submitted consultation would send must be what the approver reads, so an
edit after submission returns it to draft (and says why on its page). The person who
edited is noted as a contributor (scheduler/approval.py), so they may not approve it.
A template version counts when one of its messages would be frozen with it: its
author is found at approval time, so a template saved while a consultation is a draft
counts too. A consultation already approved is not touched by a template edit: its
messages were frozen with the version the approver read.

A bulletin sent on its own (scheduler/bulletin_sends/) keeps the same promise: an
edit withdraws a send of it awaiting approval to draft (the editor is told), and once
any send of it was approved (scheduled, sending, paused, missed or done) its words are
locked: what went, or will go, is what the approver read, and the bulletin's page and
report describe that message. To change the words, copy it.

Every function takes a session and never commits; the caller owns the transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.accounts import key_authors
from mailer.accounts.key_authors import Writer
from mailer.accounts.models import User
from mailer.bulletins import compose
from mailer.bulletins.models import Bulletin
from mailer.delivery.models import SEND_AWAITING_APPROVAL, Send
from mailer.email_templates.models import EmailTemplate, TemplateVersion
from scheduler import approval
from scheduler.bulletin_sends import requests as bulletin_sends
from scheduler.consultations import lifecycle, read_models
from scheduler.models import AWAITING_APPROVAL, DRAFT, Consultation

# How the bulletin editor names what changed (mailer/bulletins/compose.py update).
MESSAGE_FIELDS = {
    "template": "template",
    "subject": "subject",
    "preheader": "preheader",
    "body_markdown": "words",
    "link_documents": "documents as links",
    "attachments": "documents",
    "blocks": "template blocks",
}


class MessageLocked(Exception):
    """The message's consultation was approved (or is sending) by the time the edit
    came to be written; the sentence says so."""


def before_message_edit(session: Session, bulletin: Bulletin) -> None:
    """Take the message's consultation before any of the message is written, and refuse
    when it is approved by now: an approval committed while this edit was on its way
    froze the words it read, and words saved after it would never go out."""
    owner = read_models.owner_of(session, bulletin.id)
    if owner is None:
        _refuse_if_approved(session, bulletin)
        return
    send, consultation = owner
    lifecycle.lock(session, consultation)
    session.refresh(send)
    if (reason := read_models.locked_reason(session, bulletin.id)) is not None:
        raise MessageLocked(reason)


def message_changed(
    session: Session, bulletin: Bulletin, *, changed: list[str], by: Writer, now: datetime
) -> str | None:
    """Note an edit of a consultation's message. Returns what to tell the editor when
    it took the consultation back to draft, else None."""
    if not changed:
        return None
    owner = read_models.owner_of(session, bulletin.id)
    if owner is None:
        return _withdraw_waiting(session, bulletin, changed=changed, by=by)
    if not isinstance(by, User):
        # The API writes bulletins sent on their own; a timeline's words are the admin's.
        raise MessageLocked("A consultation's message is edited in the admin.")
    send, consultation = owner
    lifecycle.lock(session, consultation)
    what = ", ".join(MESSAGE_FIELDS.get(name, name) for name in changed)
    label = send.label.lower()
    named = f"the {label} message" if ":" not in label else f'the message "{send.label}"'
    part = f"{named}: {what}"
    approval.note(session, consultation, by=by, action=approval.EDITED, part=part, now=now)
    if consultation.state != AWAITING_APPROVAL:
        return None
    lifecycle.edited_after_submission(
        session, consultation, by=by, why=f"edited {part} after it was submitted"
    )
    return (
        f'"{consultation.title}" was awaiting approval, so this change returned it to '
        "draft: submit it again when it is ready, and another approver will read it."
    )


LOCKED = "It was approved as it is; copy it to change the words."


def _refuse_if_approved(session: Session, bulletin: Bulletin) -> None:
    """A bulletin with a send approved (or sent) cannot change; its sends' rows are
    taken first, so an approval committed meanwhile is seen."""
    own = bulletin_sends.sends_of(session, bulletin, lock=True)
    if any(s.state in bulletin_sends.APPROVED_STATES for s in own):
        raise MessageLocked(LOCKED)


def _withdraw_waiting(
    session: Session, bulletin: Bulletin, *, changed: list[str], by: Writer
) -> str | None:
    """An edit of a bulletin with a send awaiting approval takes the send back to
    draft: the approver must read what goes out."""
    waiting = [
        s
        for s in bulletin_sends.sends_of(session, bulletin, lock=True)
        if s.state == SEND_AWAITING_APPROVAL
    ]
    if not waiting:
        return None
    what = ", ".join(MESSAGE_FIELDS.get(name, name) for name in changed)
    for send in waiting:
        bulletin_sends.withdraw(
            session,
            send,
            by=by,
            note=f"{key_authors.named(by)} edited the bulletin ({what}) after it was submitted.",
        )
    return (
        f'"{bulletin.subject}" was awaiting approval, so this change returned its send to '
        "draft: submit it again when it is ready, and another approver will read it."
    )


def awaiting_approval_uses(session: Session, template: EmailTemplate) -> bool:
    """Whether a submission awaiting approval (a consultation's, or a bulletin's own
    send) would send ``template``: a new version of it now would change what was
    submitted. The shipped design's upgrade waits for these (mailer/cli/schema.py)."""
    uses = select(Send.id).join(Bulletin, Bulletin.id == Send.bulletin_id)
    uses = uses.where(Bulletin.template_id == template.id)
    consultation = uses.join(Consultation, Consultation.id == Send.consultation_id).where(
        Consultation.state == AWAITING_APPROVAL, Send.state.in_(approval.FROZEN_AT_APPROVAL)
    )
    own = uses.where(Send.state == SEND_AWAITING_APPROVAL, Send.consultation_id.is_(None))
    return bool(
        session.scalar(select(consultation.exists())) or session.scalar(select(own.exists()))
    )


def template_saved(
    session: Session, template: EmailTemplate, version: TemplateVersion, *, by: User
) -> list[Consultation]:
    """A new version of ``template``: consultations awaiting approval whose messages
    not yet approved use it return to draft. Returns them."""
    waiting = session.scalars(
        select(Consultation)
        .where(
            Consultation.state == AWAITING_APPROVAL,
            select(Send.id)
            .join(Bulletin, Bulletin.id == Send.bulletin_id)
            .where(
                Send.consultation_id == Consultation.id,
                Send.state.in_(approval.FROZEN_AT_APPROVAL),
                Bulletin.template_id == template.id,
            )
            .exists(),
        )
        .order_by(Consultation.id)
        # Taken like every other change of what an approval covers (lifecycle.lock).
        .with_for_update(of=Consultation)
    ).all()
    # A bulletin's own send waiting for approval goes back to draft too; its template's
    # author is found at approval time (scheduler/bulletin_sends/approval.py).
    for send in bulletin_sends.waiting_sends(session, template_id=template.id):
        bulletin_sends.withdrawn(
            session,
            send,
            by=by,
            why=f'{by.email} saved version {version.number} of the template "{template.name}", '
            "which it uses, after it was submitted.",
        )
    for consultation in waiting:
        lifecycle.edited_after_submission(
            session,
            consultation,
            by=by,
            why=(
                f'saved version {version.number} of the template "{template.name}", which '
                "its messages use, after it was submitted"
            ),
        )
    return list(waiting)


def settings_changed(session: Session, changed: list[str], *, by: User) -> list[Consultation]:
    """The organisation settings (in every message: the sender's name, links, phone
    numbers) changed: whoever changed them made part of every consultation not yet
    approved, and those awaiting approval return to draft. Returns the latter."""
    if not changed:
        return []
    pending = session.scalars(
        select(Consultation)
        .where(Consultation.state.in_((DRAFT, AWAITING_APPROVAL)))
        .order_by(Consultation.id)
        .with_for_update(of=Consultation)
    ).all()
    part = "organisation settings: " + ", ".join(changed)
    # A bulletin's own send waiting for approval: its changer is now one of its authors.
    for send in bulletin_sends.waiting_sends(session):
        bulletin = session.get(Bulletin, send.bulletin_id) if send.bulletin_id else None
        if bulletin is not None:
            compose.note(session, bulletin, by=by, action=compose.EDITED, part=part)
        bulletin_sends.withdrawn(
            session, send, by=by, why=f"{by.email} changed the {part} after it was submitted."
        )
    returned = []
    for consultation in pending:
        approval.note(session, consultation, by=by, action=approval.EDITED, part=part)
        if consultation.state == AWAITING_APPROVAL:
            lifecycle.edited_after_submission(
                session, consultation, by=by, why=f"changed the {part} after it was submitted"
            )
            returned.append(consultation)
    return returned
