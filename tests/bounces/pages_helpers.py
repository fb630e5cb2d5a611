"""A send that went, and what came back about it, made through the one real path
(``processing.record``) as the mailbox, the pipe and the webhooks do."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update

from mailer.accounts.models import User
from mailer.bounces import processing
from mailer.bounces.models import HARD
from mailer.bounces.reports import REPORT_BOUNCE, REPORT_COMPLAINT, Failure, Report
from mailer.database import Database
from mailer.delivery.models import FAILED, SENT, Delivery
from tests.delivery.helpers import START, make_send

LIMITS = processing.Limits(hard_limit=1, soft_limit=3)

# A DSN as a hostile server might word it: markup and a spreadsheet formula.
HOSTILE = '=HYPERLINK("http://evil.example/","click") <script>alert(1)</script> user unknown'


def sent_send(db: Database, *, addresses: list[str], author: User, now: datetime = START) -> int:
    """A send whose every message was handed over."""
    send_id = make_send(db, addresses=addresses, author=author, now=now)
    with db.transaction() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.send_id == send_id)
            .values(state=SENT, sent_at=now, attempts=1, last_reply="250 OK")
        )
    return send_id


def refuse(db: Database, *, send_id: int, address: str, reply: str) -> None:
    """The relay refused the recipient at RCPT: a failed delivery, hard, no bounce row."""
    with db.transaction() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.send_id == send_id, Delivery.address == address)
            .values(state=FAILED, hard_bounce=True, last_reply=reply, sent_at=None)
        )


def bounce_back(
    db: Database,
    *,
    send_id: int,
    address: str,
    now: datetime,
    kind: str = HARD,
    status: str = "5.1.1",
    diagnostic: str = "smtp; 550 5.1.1 user unknown",
    raw: bytes | None = None,
    source: str = "mailbox",
) -> processing.Outcome:
    """A report about the message ``address`` got from the send, quoting its
    Message-ID, recorded as the bounce mailbox would."""
    with db.transaction() as session:
        message_id = session.scalar(
            select(Delivery.message_id).where(
                Delivery.send_id == send_id, Delivery.address == address
            )
        )
        assert message_id
        complaint = kind == "complaint"
        report = Report(
            kind=REPORT_COMPLAINT if complaint else REPORT_BOUNCE,
            source=source,
            fingerprint=uuid.uuid4().hex,
            failures=(Failure(address=address, kind=kind, status=status, diagnostic=diagnostic),),
            message_id=message_id,
            subject="Undelivered Mail Returned to Sender",
            raw=raw
            if raw is not None
            else (
                b"From: MAILER-DAEMON@relay.example\r\nSubject: Undelivered\r\n\r\n"
                + f"<{address}>: {diagnostic}\r\n".encode()
            ),
        )
        return processing.record(session, report, limits=LIMITS, now=now)
