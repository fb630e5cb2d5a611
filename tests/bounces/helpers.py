"""Sends that went out, and the reports that come back about them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from contacts import suppression
from contacts.models import Contact, ListMembership, Suppression
from mailer.accounts.models import User
from mailer.bounces import processing
from mailer.bounces.models import HARD, SOURCE_MAILBOX
from mailer.bounces.processing import Limits, Outcome
from mailer.bounces.reports import REPORT_BOUNCE, Failure, Report
from mailer.database import Database
from mailer.delivery import sends, verp
from mailer.delivery.models import QUEUED, SENT, Delivery, Send
from tests.conftest import TEST_SECRET
from tests.delivery.helpers import DOMAIN, START, make_send

BOUNCE_ADDRESS = f"bounces@{DOMAIN}"
KEYS = (TEST_SECRET,)
LIMITS = Limits(bounce_address=BOUNCE_ADDRESS, keys=KEYS)


def sent_send(db: Database, author: User, addresses: list[str]) -> int:
    """A send whose every delivery was handed over to the relay."""
    send_id = make_send(db, addresses=addresses, author=author)
    with db.transaction() as session:
        session.execute(
            update(Delivery).where(Delivery.send_id == send_id).values(state=SENT, attempts=1)
        )
    return send_id


def send_again(db: Database, author: User, send_id: int) -> int:
    """Another send, handed over, to the same people as ``send_id``."""
    again = make_send(db, addresses=[], author=author, due=False)
    with db.transaction() as session:
        first_list = session.get(Send, send_id).audience["lists"][0]
        second_list = session.get(Send, again).audience["lists"][0]
        for member in session.scalars(
            select(ListMembership).where(ListMembership.list_id == first_list)
        ):
            session.add(ListMembership(list_id=second_list, contact_id=member.contact_id))
        session.flush()
        sends.make_due(session, session.get(Send, again), now=START, domain=DOMAIN)
        session.execute(
            update(Delivery)
            .where(Delivery.send_id == again, Delivery.state == QUEUED)
            .values(state=SENT, attempts=1)
        )
    return again


def delivery(db: Database, send_id: int, address: str) -> Delivery:
    with db.transaction() as session:
        found = session.scalar(
            select(Delivery).where(Delivery.send_id == send_id, Delivery.address == address)
        )
        assert found is not None
        return found


def delivery_by_id(db: Database, delivery_id: int) -> Delivery:
    with db.transaction() as session:
        return session.get(Delivery, delivery_id)


def bounce_token(row: Delivery, *, keys: tuple[str, ...] = KEYS) -> str:
    return verp.make_token(verp.BOUNCE, row.id, keys=keys, send_id=row.send_id)


def dsn(
    row: Delivery | None,
    *,
    address: str = "",
    kind: str = HARD,
    status: str = "5.1.1",
    fingerprint: str = "<dsn-1@mx.example.net>",
    token: str | None = None,
    message_id: str = "",
    source: str = SOURCE_MAILBOX,
    raw: bytes = b"",
    trusted: bool = False,
    report_kind: str = REPORT_BOUNCE,
) -> Report:
    """A report about ``row``: by its signed bounce token unless ``token`` says else."""
    if token is None:
        token = bounce_token(row) if row is not None else ""
    return Report(
        kind=report_kind,
        source=source,
        fingerprint=fingerprint,
        failures=(
            Failure(
                address=address or (row.address if row is not None else ""),
                kind=kind,
                status=status,
                diagnostic=f"{status} <{address or (row.address if row else '')}>: "
                "Recipient address rejected: User unknown in virtual mailbox table",
            ),
        ),
        message_id=message_id,
        verp_token=token,
        subject="Undelivered Mail Returned to Sender",
        raw=raw or b"Subject: Undelivered Mail Returned to Sender\r\n\r\nsorry\r\n",
        trusted=trusted,
    )


def record(
    db: Database, report: Report, *, limits: Limits = LIMITS, now: datetime = START
) -> Outcome:
    with db.transaction() as session:
        return processing.record(session, report, limits=limits, now=now)


def contact_status(db: Database, address: str) -> str:
    with db.transaction() as session:
        contact = session.scalar(select(Contact).where(Contact.email_key == address.casefold()))
        assert contact is not None
        return contact.status


def suppressed_for(db: Database, address: str) -> str | None:
    """The reason the address is suppressed, or None."""
    with db.transaction() as session:
        digest = suppression.address_hash(session, address.casefold())
        return session.scalar(select(Suppression.reason).where(Suppression.address_hash == digest))
