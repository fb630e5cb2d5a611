"""Erasure and retention of bounce records and the messages they came in (listed in
mailer.personal_data with every other place a person's data lives).

Erasing a person blanks the address on their bounce records and unlinks them (the
records stay, so a send's figures stay true), and deletes the stored messages their
bounces came in: a DSN quotes the address, often the whole message sent to them.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.orm import Session

from mailer.bounces.models import Bounce, BounceMessage, WebhookReceipt
from mailer.database import rows_changed

log = logging.getLogger(__name__)

# A provider retries a webhook for a day at most (SES, SendGrid, Mailgun): a receipt
# older than this guards against nothing, since the signature's own time has run out.
KEEP_RECEIPTS = timedelta(days=2)


def scrub_bounces(session: Session, contact_id: int, email: str) -> None:
    key = email.strip().casefold()
    mine = or_(Bounce.contact_id == contact_id, Bounce.email_key == key)
    bounces = session.scalars(select(Bounce).where(mine)).all()
    messages = {b.message_ref for b in bounces if b.message_ref is not None}
    messages |= _quoting(session, email)
    for bounce in bounces:
        bounce.address = ""
        bounce.email_key = ""
        bounce.contact_id = None
        bounce.message_ref = None
        bounce.diagnostic = _without(bounce.diagnostic, email)
        bounce.outcome = _without(bounce.outcome, email)
    session.flush()
    if messages:
        # One message (a digest of several failures) may be shared with other people's
        # bounces: it goes too, as it names this person; theirs keep their records.
        _unlink(session, Bounce.message_ref.in_(messages))
        session.execute(delete(BounceMessage).where(BounceMessage.id.in_(messages)))
    log.info(
        "erasure of contact %s blanked %d bounce records, deleted %d stored messages",
        contact_id,
        len(bounces),
        len(messages),
    )


def _quoting(session: Session, email: str) -> set[int]:
    """Stored messages that quote the address without a bounce of theirs naming it (a
    report about someone else that copies them, an unmatched one): read a batch at a
    time, as the outbox scrubber reads its files."""
    needle = email.strip().casefold().encode("utf-8")
    if not needle:
        return set()
    found: set[int] = set()
    rows = session.execute(
        select(BounceMessage.id, BounceMessage.subject, BounceMessage.data).execution_options(
            yield_per=50
        )
    )
    for message_id, subject, data in rows:
        if needle in bytes(data).lower() or needle in subject.casefold().encode("utf-8"):
            found.add(int(message_id))
    return found


def _unlink(session: Session, which: ColumnElement[bool]) -> None:
    """Bounce records keep no reference to a stored message about to be deleted."""
    session.execute(
        update(Bounce)
        .where(which)
        .values(message_ref=None)
        .execution_options(synchronize_session=False)
    )


def _without(text: str, email: str) -> str:
    if not text or not email:
        return text
    lowered, needle = text.casefold(), email.casefold()
    out, start = [], 0
    while (found := lowered.find(needle, start)) != -1:
        out.append(text[start:found] + "[erased]")
        start = found + len(needle)
    out.append(text[start:])
    return "".join(out)


def purge_messages(session: Session, *, now: datetime, keep: timedelta) -> int:
    """Delete the stored messages received before ``now - keep`` ([bounces]
    keep_messages); the bounce records stay, without them."""
    cutoff = now - keep
    _unlink(
        session,
        Bounce.message_ref.in_(select(BounceMessage.id).where(BounceMessage.received_at < cutoff)),
    )
    return rows_changed(session, delete(BounceMessage).where(BounceMessage.received_at < cutoff))


def purge_bounces(session: Session, *, now: datetime, keep: timedelta) -> int:
    """Delete the bounce records received before ``now - keep`` ([retention]
    deliveries), as the delivery rows they are about go."""
    return rows_changed(session, delete(Bounce).where(Bounce.received_at < now - keep))


def purge_receipts(session: Session, *, now: datetime, keep: timedelta = KEEP_RECEIPTS) -> int:
    """Delete the webhook receipts older than two days (a replay that old is refused by
    its own signed time)."""
    return rows_changed(
        session, delete(WebhookReceipt).where(WebhookReceipt.received_at < now - keep)
    )
