"""Approving a bulletin's send: the two-person rule, the content hash, and the approval
that freezes the message and schedules it.

The same promises as a consultation's approval (scheduler/approval.py), with the
bulletin as the unit:

- Authors. Whoever created, edited or submitted the bulletin since one of its sends
  was last approved (its ``BulletinContribution`` rows not yet stamped), and the author
  of the template version it would be frozen with until someone else has approved a
  message made with that version. Under ``[approval] two_person`` none of them may
  approve; an approval stamps the rows, so a second send of the same words (to another
  audience) is the new submitter's alone.
- The content hash. The frozen message, the audience and the times, hashed in a
  canonical form; the approval page shows it and posts it back, and an approval of any
  other version is refused.

Every function takes a session and never commits; the caller owns the transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from contacts.audience import Audience, describe
from mailer import audit, humane_time
from mailer.accounts.key_authors import Writer, audit_actor
from mailer.audit import actions
from mailer.bulletins import messages
from mailer.bulletins.models import Bulletin, BulletinContribution
from mailer.delivery import send_states
from mailer.delivery.models import SEND_AWAITING_APPROVAL, SEND_DRAFT, Send
from scheduler import approval as shared
from scheduler.bulletin_sends.requests import (
    APPROVED_STATES,
    SendRefused,
    a_role,
    moved_time,
    refuse_empty,
    refuse_unsendable,
)
from scheduler.consultations.about import about, unpublished
from scheduler.rules import Rules

log = logging.getLogger(__name__)

CHANGED = "It changed since you opened it; read it again."


def authors(session: Session, bulletin: Bulletin) -> list[shared.Author]:
    """Everyone who made what an approval of its send now would approve."""
    found = shared.Authors()
    for row in session.scalars(
        select(BulletinContribution)
        .where(
            BulletinContribution.bulletin_id == bulletin.id,
            BulletinContribution.approval_at.is_(None),
        )
        .order_by(BulletinContribution.at, BulletinContribution.id)
    ):
        found.add_row(session, row)
    try:
        version = messages.current_version(bulletin)
    except messages.TemplateUnusable:
        version = None
    found.add_template_author(session, version, what=f'the bulletin "{bulletin.subject}"')
    found.add_settings_authors(session)
    return found.found()


def refusal(found: list[shared.Author], by: Writer) -> str | None:
    """Why ``by`` may not approve (the two-person rule), or None."""
    return shared.refusal(found, by, what="bulletin")


def settle(session: Session, bulletin: Bulletin, *, now: datetime) -> None:
    """The approval given now covers every contribution noted so far."""
    session.execute(
        update(BulletinContribution)
        .where(
            BulletinContribution.bulletin_id == bulletin.id,
            BulletinContribution.approval_at.is_(None),
        )
        .values(approval_at=now)
    )


def freeze(session: Session, bulletin: Bulletin, *, base_url: str) -> messages.Frozen:
    """What the bulletin would send now. A bulletin about a consultation carries that
    consultation's documents and facts (``scheduler/consultations/about.py``, as its
    previews and test sends show them). Raises messages.TemplateUnusable."""
    found = about(session, bulletin, base_url)
    if found is None:
        return messages.freeze(session, bulletin)
    return messages.freeze(session, bulletin, documents=found.documents, extra=found.extra)


def content(session: Session, send: Send, bulletin: Bulletin, *, base_url: str) -> dict[str, Any]:
    """What approving ``send`` now would freeze, as plain data."""
    frozen: Any
    try:
        frozen = freeze(session, bulletin, base_url=base_url).to_json()
    except messages.TemplateUnusable as exc:
        # Approval will refuse it; the page still shows a version.
        frozen = f"unusable: {exc}"
    return {
        "send_id": send.id,
        "bulletin_id": bulletin.id,
        "frozen": frozen,
        "audience": Audience.from_json(send.audience).to_json(),
        "requested_at": shared.utc(send.requested_at),
        "due_at": shared.utc(send.due_at),
    }


def content_hash(session: Session, send: Send, bulletin: Bulletin, *, base_url: str) -> str:
    return shared.digest(content(session, send, bulletin, base_url=base_url))


def _not_waiting(send: Send, *, opened: bool) -> SendRefused:
    if send.state == SEND_DRAFT and send.returned_note and opened:
        return SendRefused(
            "Nothing was approved: it went back to draft after you opened it. "
            f"{send.returned_note} It needs to be submitted again."
        )
    if send.state in APPROVED_STATES:
        return SendRefused("This send is already approved.")
    return SendRefused(f"Only a send awaiting approval can be approved; this one is {send.state}.")


def due_time(send: Send, *, rules: Rules, now: datetime) -> tuple[datetime, list[str]]:
    """When an approval now sends it: the time asked for, or now (as soon as approved,
    or when the time asked for passed while it waited), moved by the rules."""
    asked = send.requested_at
    if asked is None:
        return moved_time(rules, now)
    if asked <= now:
        asked_words = humane_time.when(asked, rules.timezone)
        why = f"the time asked for ({asked_words}) passed before approval"
        return moved_time(rules, now, why=why)
    return moved_time(rules, asked)


def approve(
    session: Session,
    send: Send,
    *,
    by: Writer,
    now: datetime,
    rules: Rules,
    version: str | None,
    two_person: bool,
    base_url: str,
    via: str = shared.VIA_ADMIN,
) -> Send:
    """Approve ``send`` as ``by``: freeze its message and schedule it. ``version`` is
    the content hash the approver read (None: the version there is now, from the
    command line, which ``via`` names in the audit log)."""
    if not by.can_approve:
        raise SendRefused(
            f"{by.email} is {a_role(by.role)}; only an approver or an admin can approve."
        )
    # Two approvers at once: the second waits here, then finds it approved.
    session.flush()
    session.refresh(send, with_for_update=True)
    if send.state != SEND_AWAITING_APPROVAL:
        raise _not_waiting(send, opened=version is not None)
    bulletin = session.get(Bulletin, send.bulletin_id) if send.bulletin_id else None
    if bulletin is None:
        raise SendRefused("Its bulletin has been deleted; nothing can be approved.")
    refuse_unsendable(session, bulletin)
    if reason := unpublished(session, bulletin):
        raise SendRefused(reason)
    found = authors(session, bulletin)
    if two_person and (refused := refusal(found, by)):
        raise SendRefused(refused)
    digest = content_hash(session, send, bulletin, base_url=base_url)
    if version is not None and version != digest:
        raise SendRefused(CHANGED)
    audience = Audience.from_json(send.audience)
    reachable = refuse_empty(session, audience)
    try:
        frozen = freeze(session, bulletin, base_url=base_url)
    except messages.TemplateUnusable as exc:
        raise SendRefused(str(exc)) from None
    send.due_at, send.reasons = due_time(send, rules=rules, now=now)
    send_states.schedule(
        send, now=now, by_id=by.id, frozen=frozen.to_json(), audience=audience.to_json()
    )
    send.approved_hash = digest
    settle(session, bulletin, now=now)
    made_by = ", ".join(a.describe() for a in found) or "nobody recorded"
    audit.record(
        session,
        actions.BULLETIN_SEND_APPROVED,
        **audit_actor(by),
        target_type="send",
        target_id=send.id,
        summary=f'Approved "{bulletin.subject}" version {shared.short(digest)} from {via}: '
        f"to {describe(session, audience)} ({reachable} now), due "
        f"{humane_time.when(send.due_at, rules.timezone)}; made by {made_by}",
        detail={
            "content_hash": digest,
            "via": via,
            "bulletin_id": bulletin.id,
            "authors": [a.to_json() for a in found],
        },
    )
    log.info("send %s (bulletin %s) approved by %s from %s", send.id, bulletin.id, by.email, via)
    return send
