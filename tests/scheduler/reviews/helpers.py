"""Reading what the review steps left behind: queued notices and review events."""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from sqlalchemy import select

from mailer.database import Database
from mailer.delivery.models import QueuedMessage
from scheduler.reviews.models import ReviewEvent
from scheduler.reviews.notices import KIND


@dataclass(frozen=True)
class Notice:
    to: str
    subject: str
    text: str
    html: str
    stop_url: str


def parse(data: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    return message


def read(message: EmailMessage) -> Notice:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return Notice(
        to=str(message["To"]),
        subject=str(message["Subject"]),
        text=text.get_content(),
        html=html.get_content(),
        stop_url=str(message["List-Unsubscribe"] or "").strip("<>"),
    )


def notices(db: Database) -> list[Notice]:
    """The review notices queued so far, oldest first."""
    with db.transaction() as session:
        rows = session.scalars(
            select(QueuedMessage).where(QueuedMessage.kind == KIND).order_by(QueuedMessage.id)
        ).all()
        return [read(parse(row.data)) for row in rows]


def review_events(db: Database) -> list[tuple[str, str, str]]:
    """(action, who, comment) of every review event, oldest first."""
    with db.transaction() as session:
        return [
            (e.action, e.user_email, e.comment)
            for e in session.scalars(select(ReviewEvent).order_by(ReviewEvent.id))
        ]
