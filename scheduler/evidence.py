"""The statutory evidence report: per required audience, who was sent which message
when, and the outcome. What a Police and Crime Panel would ask for.

Rows come from the delivery records (what actually happened) and from the audience as
it is now (someone who joined after a message went shows "not sent"). Erased
contacts cannot be named: they stay in the counts only.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts.audience import audience_contacts
from contacts.exporting import neutralise
from contacts.models import Contact
from mailer import audit
from mailer.accounts.models import User
from mailer.audit import actions
from mailer.bounces.models import HARD, Bounce
from mailer.delivery import sends
from mailer.delivery.models import (
    BOUNCED,
    FAILED,
    QUEUED,
    SEND_CANCELLED,
    SEND_MISSED,
    SENDING,
    SENT,
    SKIPPED,
    Delivery,
    Send,
)
from mailer.delivery.sends import Progress
from scheduler import statutory
from scheduler.models import Consultation

CSV_HEADER = [
    "required_audience",
    "name",
    "organisation",
    "email",
    "message",
    "due_at_utc",
    "outcome",
    "at_utc",
    "detail",
]


@dataclass(frozen=True)
class Outcome:
    # "sent", "bounced", "failed", "skipped: unsubscribed", "on its way", "not sent yet"
    label: str
    at: datetime | None = None
    detail: str = ""

    @property
    def good(self) -> bool:
        """Reached the person: handed over and no bounce came back. A message that
        bounced after it was handed over ("bounced") never arrived."""
        return self.label == "sent"


@dataclass
class Person:
    contact_id: int
    name: str
    organisation: str
    email: str
    outcomes: dict[int, Outcome] = field(default_factory=dict)


@dataclass
class AudienceEvidence:
    coverage: statutory.Coverage
    people: list[Person]

    def reached(self, send_id: int) -> int:
        return sum(1 for p in self.people if p.outcomes.get(send_id, NOT_SENT).good)


NOT_SENT = Outcome("not sent")
NOT_YET = Outcome("not sent yet")
UNSENDABLE = (SEND_CANCELLED, SEND_MISSED)  # a send in these will not go to anyone now


def missing(send: Send) -> Outcome:
    """The outcome for someone with no delivery of ``send``: it may simply not be due."""
    return NOT_YET if send.fired_at is None and send.state not in UNSENDABLE else NOT_SENT


@dataclass
class Report:
    sends: list[Send]
    audiences: list[AudienceEvidence]
    totals: dict[int, Progress]


def _outcome(row: Delivery, bounced_at: dict[int, datetime]) -> Outcome:
    if row.state == SENT:
        return Outcome("sent", row.sent_at, row.last_reply)
    if row.state == BOUNCED:
        # When the bounce came back (the message was handed over at sent_at).
        return Outcome("bounced", bounced_at.get(row.id, row.sent_at), row.last_reply)
    if row.state == FAILED:
        return Outcome("failed", None, row.last_reply)
    if row.state == SKIPPED:
        return Outcome(f"skipped: {row.skip_reason}", row.created_at)
    if row.state in (QUEUED, SENDING):
        return Outcome("on its way", None, row.last_reply)
    return Outcome(row.state)


def report(session: Session, consultation: Consultation) -> Report:
    timeline = list(
        session.scalars(
            select(Send).where(Send.consultation_id == consultation.id).order_by(Send.due_at)
        )
    )
    send_ids = [s.id for s in timeline]
    audience = audience_contacts(session, consultation.audience).subquery()
    audiences = []
    for coverage in statutory.coverage(session, consultation):
        people: dict[int, Person] = {}
        type_id = coverage.organisation_type_id
        if type_id is not None:
            delivered = session.execute(
                select(Delivery, Contact)
                .join(Contact, Contact.id == Delivery.contact_id)
                .where(Delivery.send_id.in_(send_ids), Contact.organisation_type_id == type_id)
                .order_by(Contact.organisation, Contact.name, Contact.id)
            ).all()
            bounced_at = _bounced_at(
                session, [row.id for row, _ in delivered if row.state == BOUNCED]
            )
            for row, contact in delivered:
                person = people.setdefault(contact.id, _person(contact))
                person.outcomes[row.send_id] = _outcome(row, bounced_at)
            for contact in session.scalars(
                select(Contact)
                .join(audience, audience.c.id == Contact.id)
                .where(Contact.organisation_type_id == type_id)
                .order_by(Contact.organisation, Contact.name, Contact.id)
            ):
                people.setdefault(contact.id, _person(contact))
        ordered = sorted(people.values(), key=lambda p: (p.organisation, p.name, p.email))
        audiences.append(AudienceEvidence(coverage, ordered))
    totals = {s.id: sends.progress(session, s.id) for s in timeline}
    return Report(timeline, audiences, totals)


def _bounced_at(session: Session, delivery_ids: list[int]) -> dict[int, datetime]:
    """delivery id -> when its (first) hard bounce came back."""
    if not delivery_ids:
        return {}
    found: dict[int, datetime] = {}
    for delivery_id, at in session.execute(
        select(Bounce.delivery_id, Bounce.received_at)
        .where(Bounce.delivery_id.in_(delivery_ids), Bounce.kind == HARD)
        .order_by(Bounce.received_at.desc())
    ):
        if delivery_id is not None:
            found[int(delivery_id)] = at
    return found


def _person(contact: Contact) -> Person:
    return Person(contact.id, contact.name, contact.organisation, contact.email)


def csv_rows(session: Session, consultation: Consultation) -> list[list[object]]:
    found = report(session, consultation)
    rows: list[list[object]] = []
    for group in found.audiences:
        if not group.people:
            rows.append(
                [group.coverage.requirement.audience, "", "", "", "", "", "no recipient", "", ""]
            )
        for person in group.people:
            for send in found.sends:
                outcome = person.outcomes.get(send.id) or missing(send)
                rows.append(
                    [
                        group.coverage.requirement.audience,
                        person.name,
                        person.organisation,
                        person.email,
                        send.label,
                        _iso(send.due_at),
                        outcome.label,
                        _iso(outcome.at),
                        outcome.detail,
                    ]
                )
    return rows


def _iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat().replace("+00:00", "Z")


def csv_text(session: Session, consultation: Consultation) -> str:
    """The report as a CSV file, each cell made safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in csv_rows(session, consultation):
        writer.writerow([neutralise(str(value)) for value in row])
    return out.getvalue()


def exported(session: Session, consultation: Consultation, *, by: User) -> None:
    """It names the people of the required audiences: every copy is on the record, as
    a contacts export is."""
    audit.record(
        session,
        actions.CONSULTATION_EVIDENCE_EXPORTED,
        actor=by,
        target_type="consultation",
        target_id=consultation.id,
        summary=f'Downloaded the evidence report of "{consultation.title}" as CSV',
    )
