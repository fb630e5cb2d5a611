"""The one path every report takes, wherever it came in.

``record`` finds the delivery a report is about, records each recipient's bounce or
complaint once (the same message processed twice, or the same webhook event delivered
twice, changes nothing the second time), and acts on it:

- a hard bounce marks a delivery that was handed over as bounced (not sent), with the
  remote server's words, and counts towards ``[smtp] hard_bounce_limit``;
- a soft bounce is counted, and suppresses the address only once ``[bounces]
  soft_limit`` of them arrive within ``soft_window``;
- a complaint unsubscribes the person and suppresses the address at once;
- an auto-reply, a delay warning or anything not understood changes nothing.

Which delivery (``matching.py``): the signed token of the bounce address (VERP) first, then the
Message-ID the report quotes (each delivery has its own). A report from a mailbox that
names neither changes nothing: anyone can send mail to a bounce mailbox, and an address
alone in a forged report must not suppress a stakeholder. A provider's signed webhook
(``Report.trusted``) may be matched by the address alone.

Services never commit: the caller's transaction holds the whole report.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contacts import subscriptions, suppression
from contacts.models import (
    ACTIVE,
    SUPPRESSED_COMPLAINED,
    SUPPRESSED_UNSUBSCRIBED,
    Contact,
)
from mailer import audit
from mailer.audit import actions
from mailer.bounces import matching, reasons
from mailer.bounces.models import (
    COMPLAINT,
    HARD,
    MAX_STORED_MESSAGE,
    SOFT,
    Bounce,
    BounceMessage,
)
from mailer.bounces.reports import (
    REPORT_BOUNCE,
    REPORT_COMPLAINT,
    REPORT_UNSUBSCRIBE,
    Failure,
    Report,
)
from mailer.config import Config
from mailer.delivery import bounces as delivery_bounces
from mailer.delivery import verp
from mailer.delivery.models import BOUNCED, FAILED, SENT, Delivery, Send
from mailer.delivery.privacy import ERASED
from mailer.events import catalogue, emit

log = logging.getLogger(__name__)

BOUNCE_ACTOR = "bounce processing"


@dataclass(frozen=True)
class Limits:
    """What the configuration says a bounce does."""

    hard_limit: int = 1
    soft_limit: int = 3
    soft_window: timedelta = timedelta(days=30)
    # The bounce address of VERP ("" : none), and the keys its tokens are signed with.
    bounce_address: str = ""
    keys: Sequence[str] = ()

    @classmethod
    def from_config(cls, config: Config, *, keys: Sequence[str]) -> Limits:
        return cls(
            hard_limit=config.smtp.hard_bounce_limit,
            soft_limit=config.bounces.soft_limit,
            soft_window=config.bounces.soft_window,
            bounce_address=config.bounces.address,
            keys=tuple(keys),
        )


@dataclass
class Outcome:
    """What recording a report did, for the command line and the log."""

    recorded: int = 0  # recipients recorded now
    repeated: int = 0  # recipients already recorded from this same report
    unmatched: int = 0  # recipients whose delivery could not be found
    suppressed: int = 0  # addresses suppressed by this report
    unsubscribed: int = 0
    ignored: str = ""  # why nothing was recorded ("an automatic reply"), or ""
    bounce_ids: list[int] = field(default_factory=list)

    def describe(self) -> str:
        if self.ignored:
            return f"ignored: {self.ignored}"
        parts = [f"{self.recorded} recorded"]
        if self.repeated:
            parts.append(f"{self.repeated} already recorded")
        if self.unmatched:
            parts.append(f"{self.unmatched} not matched to a message")
        if self.suppressed:
            parts.append(f"{self.suppressed} suppressed")
        if self.unsubscribed:
            parts.append(f"{self.unsubscribed} unsubscribed")
        return ", ".join(parts)


_IGNORED = {
    "auto_reply": "an automatic reply (out of office), not a bounce",
    "delay": "a delay warning: the server is still trying",
    "unknown": "not a bounce, complaint or unsubscribe request we could read",
}


def record(session: Session, report: Report, *, limits: Limits, now: datetime) -> Outcome:
    """Act on ``report`` in the caller's transaction; see the module's description."""
    outcome = Outcome()
    if report.kind == REPORT_UNSUBSCRIBE:
        return _unsubscribe_request(session, report, limits=limits, outcome=outcome)
    if report.kind not in (REPORT_BOUNCE, REPORT_COMPLAINT) or not report.failures:
        outcome.ignored = _IGNORED.get(report.kind, "nothing in it names a recipient")
        log.info("%s report %s ignored: %s", report.source, report.fingerprint, outcome.ignored)
        return outcome
    stored: BounceMessage | None = None
    token, token_delivery = matching.by_token(
        session, report, bounce_address=limits.bounce_address, keys=limits.keys
    )
    for failure in report.failures:
        fingerprint = _fingerprint(report, failure)
        if session.scalar(select(Bounce.id).where(Bounce.fingerprint == fingerprint)):
            outcome.repeated += 1
            continue
        delivery = token_delivery or matching.by_message_id(session, report, failure)
        contact = matching.contact_for(session, delivery, failure, trusted=report.trusted)
        # The delivery row is there but its person is not: erased since. The report
        # names their address; it must not be written down again.
        erased = delivery is not None and contact is None
        summarised = matching.summarised_send(session, token) if delivery is None else None
        diagnostic = failure.diagnostic
        if erased:
            address = ""
            if failure.address:
                diagnostic = re.sub(re.escape(failure.address), ERASED, diagnostic, flags=re.I)
        elif delivery is not None and delivery.address:
            address = delivery.address
        else:
            address = failure.address
        if report.raw and stored is None and not erased:
            stored = BounceMessage(
                source=report.source,
                received_at=now,
                subject=report.subject[:300],
                data=report.raw[:MAX_STORED_MESSAGE],
            )
            session.add(stored)
            session.flush()
        bounce = Bounce(
            fingerprint=fingerprint,
            kind=failure.kind,
            source=report.source,
            received_at=now,
            delivery_id=delivery.id if delivery is not None else None,
            send_id=delivery.send_id
            if delivery is not None
            else (summarised.id if summarised is not None else None),
            contact_id=contact.id if contact is not None else None,
            address=address[:320],
            email_key=address.strip().casefold()[:320],
            status=failure.status[:20],
            diagnostic=diagnostic[:4000],
            # The delivery's own Message-ID once it is found: a report may quote another
            # (a forwarded copy, a forged one), and the page says "our message".
            message_id=(delivery.message_id if delivery else report.message_id)[:200],
            message_ref=stored.id if stored is not None else None,
        )
        session.add(bounce)
        if summarised is not None and contact is None:
            bounce.outcome = _after_retention(summarised, failure)
            outcome.unmatched += 1
        elif delivery is None and contact is None:
            bounce.outcome = "Not matched to any message we sent: nothing changed."
            outcome.unmatched += 1
        elif failure.kind == HARD:
            bounce.outcome = _hard(session, bounce, delivery, contact, limits=limits, now=now)
        elif failure.kind == SOFT:
            bounce.outcome = _soft(session, bounce, contact, limits=limits, now=now)
        else:
            bounce.outcome = _complaint(session, bounce, contact)
        # The token names whom we sent it to, the report where their mailbox forwarded
        # it: the officer needs to see why the two differ (never for an erased person).
        sent_to = token_delivery.address if token_delivery is not None and not erased else ""
        note = reasons.forwarded(sent_to=sent_to, reported=failure.address)
        bounce.outcome = f"{bounce.outcome} {note}".strip()[:300]
        if bounce.outcome.startswith(("Suppressed", "Unsubscribed")):
            outcome.suppressed += 1
        if bounce.outcome.startswith("Unsubscribed"):
            outcome.unsubscribed += 1
        session.flush()
        _tell(session, bounce, contact, now=now)
        outcome.recorded += 1
        outcome.bounce_ids.append(bounce.id)
        log.info(
            "%s %s for delivery %s (send %s, contact %s) from %s: %s",
            failure.kind,
            failure.status or "-",
            bounce.delivery_id,
            bounce.send_id,
            bounce.contact_id,
            report.source,
            bounce.outcome,
        )
    return outcome


def _tell(session: Session, bounce: Bounce, contact: Contact | None, *, now: datetime) -> None:
    """The webhook event of a bounce or complaint that names a contact (none for an
    unknown or erased person: there is nobody for the other system to act on)."""
    if contact is None:
        return
    if bounce.kind == COMPLAINT:
        data = catalogue.complained(contact.id, contact.email, bounce.send_id)
        emit.emit(session, catalogue.DELIVERY_COMPLAINED, data, now=now)
        return
    reason = reasons.explain(kind=bounce.kind, status=bounce.status, diagnostic=bounce.diagnostic)
    data = catalogue.bounced(contact.id, contact.email, bounce.send_id, bounce.kind, reason)
    emit.emit(session, catalogue.DELIVERY_BOUNCED, data, now=now)


def _fingerprint(report: Report, failure: Failure) -> str:
    key = f"{report.source}|{report.fingerprint}|{failure.address.strip().casefold()}"
    if report.source in ("pipe", "file", "mailbox"):
        # The same message is the same report whichever way it came in.
        key = f"message|{report.fingerprint}|{failure.address.strip().casefold()}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _after_retention(send: Send, failure: Failure) -> str:
    why = "the send's per-person records were deleted by retention"
    if failure.kind == HARD and _adjust_summary(send):
        return f"Counted as bounced in the send's totals; {why}, so no contact was changed."
    return f"Recorded; {why}, so no contact was changed."


def _hard(
    session: Session,
    bounce: Bounce,
    delivery: Delivery | None,
    contact: Contact | None,
    *,
    limits: Limits,
    now: datetime,
) -> str:
    reply = f"{bounce.status} {bounce.diagnostic}".strip() or "hard bounce"
    if delivery is not None and delivery.state == SENT:
        delivery.state = BOUNCED
        delivery.hard_bounce = True
        delivery.last_reply = reply[:2000]
        _adjust_summary(delivery.send)
    elif delivery is not None and delivery.state == FAILED:
        delivery.hard_bounce = True
    if contact is None:
        return "Recorded; the person has since been erased."
    if contact.status != ACTIVE:
        return f"Recorded; the contact was already {contact.status}."
    count = _hard_count(session, contact.id)
    if count < limits.hard_limit:
        return f"Counted: {count} of {limits.hard_limit} hard bounces before suppression."
    plain = reasons.explain(kind=HARD, status=bounce.status, diagnostic=bounce.diagnostic)
    _suppress(session, contact, send_id=bounce.send_id, detail=reply, plain=plain)
    return f"Suppressed: {_plural(count, 'hard bounce')}."


def _hard_count(session: Session, contact_id: int) -> int:
    """Deliveries that bounced hard (during the conversation or after), and hard
    bounces that named the contact but no delivery (a provider's event)."""
    in_deliveries = session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.contact_id == contact_id, Delivery.hard_bounce.is_(True))
    )
    session.flush()
    alone = session.scalar(
        select(func.count())
        .select_from(Bounce)
        .where(Bounce.contact_id == contact_id, Bounce.kind == HARD, Bounce.delivery_id.is_(None))
    )
    return (in_deliveries or 0) + (alone or 0)


def _soft(
    session: Session, bounce: Bounce, contact: Contact | None, *, limits: Limits, now: datetime
) -> str:
    if contact is None:
        return "Recorded; the person has since been erased."
    if contact.status != ACTIVE:
        return f"Recorded; the contact was already {contact.status}."
    session.flush()
    count = (
        session.scalar(
            select(func.count())
            .select_from(Bounce)
            .where(
                Bounce.contact_id == contact.id,
                Bounce.kind == SOFT,
                Bounce.received_at > now - limits.soft_window,
            )
        )
        or 0
    )
    window = f"{limits.soft_window.days} days" if limits.soft_window.days else "the window"
    if count < limits.soft_limit:
        return f"Counted: {count} of {limits.soft_limit} soft bounces within {window}."
    detail = f"{_plural(count, 'soft bounce')} within {window}: {bounce.diagnostic}"
    plain = reasons.explain(kind=SOFT, status=bounce.status, diagnostic=bounce.diagnostic)
    plain = f"{plain} ({_plural(count, 'soft bounce')} within {window})"
    _suppress(session, contact, send_id=bounce.send_id, detail=detail, plain=plain)
    return f"Suppressed: {_plural(count, 'soft bounce')} within {window}."


def _complaint(session: Session, bounce: Bounce, contact: Contact | None) -> str:
    if contact is None:
        if bounce.email_key:
            suppression.suppress(
                session,
                email_key=bounce.email_key,
                reason=SUPPRESSED_COMPLAINED,
                send_id=bounce.send_id,
                detail="marked a message as spam",
            )
            return "Suppressed the address (no contact holds it now)."
        return "Recorded; the person has since been erased."
    # Suppressed as a complaint first: the reason recorded first stays, and a
    # complaint is not undone by the person's own "subscribe again". An earlier
    # unsubscribe (which "subscribe again" would lift) gives way to the complaint.
    entry = suppression.suppress(
        session,
        email_key=contact.email_key,
        reason=SUPPRESSED_COMPLAINED,
        contact=contact,
        send_id=bounce.send_id,
        detail="marked a message as spam",
    )
    if entry.reason == SUPPRESSED_UNSUBSCRIBED:
        entry.reason, entry.detail = SUPPRESSED_COMPLAINED, "marked a message as spam"
    unsubscribed = subscriptions.unsubscribe(
        session,
        contact,
        send_id=bounce.send_id,
        via=subscriptions.VIA_COMPLAINT,
        actor_label=BOUNCE_ACTOR,
    )
    audit.record(
        session,
        actions.CONTACT_COMPLAINED,
        actor_label=BOUNCE_ACTOR,
        target_type="contact",
        target_id=contact.id,
        summary=f"Contact #{contact.id} marked send #{bounce.send_id} as spam"
        if bounce.send_id
        else f"Contact #{contact.id} marked a message as spam",
        detail={"send_id": bounce.send_id, "source": bounce.source},
    )
    if unsubscribed:
        return "Unsubscribed and suppressed: marked the message as spam."
    return f"Suppressed: marked the message as spam (the contact was already {contact.status})."


def _suppress(
    session: Session, contact: Contact, *, send_id: int | None, detail: str, plain: str
) -> None:
    """Suppress the bounced contact. ``detail`` (the server's words) stays on the
    suppression entry; ``plain`` is the reason the audit log gives a person."""
    delivery_bounces.suppress_bounced(session, contact, send_id=send_id, detail=detail)
    audit.record(
        session,
        actions.CONTACT_BOUNCED,
        actor_label=BOUNCE_ACTOR,
        target_type="contact",
        target_id=contact.id,
        summary=f"Contact #{contact.id} stopped receiving mail: {plain[:200]}",
        detail={"send_id": send_id},
    )


def _adjust_summary(send: Send) -> bool:
    """A send whose rows were already counted into its summary (a late bounce after
    retention deleted them) moves one from sent to bounced there too."""
    summary = dict(send.summary or {})
    if not summary or summary.get(SENT, 0) <= 0:
        return False
    summary[SENT] = summary[SENT] - 1
    summary[BOUNCED] = summary.get(BOUNCED, 0) + 1
    # A new dict: the JSON column notices a new value, not a changed one.
    send.summary = summary
    return True


def _unsubscribe_request(
    session: Session, report: Report, *, limits: Limits, outcome: Outcome
) -> Outcome:
    """A message to the mailto: List-Unsubscribe address: the token names the
    delivery, and the delivery its contact (a token acts only on its person)."""
    token = report.verp_token
    if not token and limits.bounce_address:
        token = verp.token_in(report.recipients, limits.bounce_address)
    read = verp.read_token(token, keys=limits.keys) if token and limits.keys else None
    if read is None or read.purpose != verp.UNSUBSCRIBE:
        outcome.ignored = "an unsubscribe request without a valid token"
        return outcome
    delivery = session.get(Delivery, read.delivery_id)
    contact = (
        session.get(Contact, delivery.contact_id)
        if delivery is not None and delivery.contact_id
        else None
    )
    if contact is None:
        outcome.ignored = "the person has since been erased"
        return outcome
    assert delivery is not None
    if subscriptions.unsubscribe(
        session,
        contact,
        send_id=delivery.send_id,
        via=subscriptions.VIA_MAILTO,
        actor_label="stakeholder (by email)",
    ):
        outcome.unsubscribed += 1
    else:
        outcome.repeated += 1
    return outcome


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
