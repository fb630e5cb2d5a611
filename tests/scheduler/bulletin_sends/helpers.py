"""A bulletin, an audience and the steps of sending it on its own, for these tests."""

from __future__ import annotations

from datetime import datetime

from contacts.audience import Audience
from mailer.accounts.models import User
from mailer.bulletins import compose
from mailer.bulletins.models import Bulletin
from mailer.config import Config
from mailer.database import Database
from mailer.delivery.models import Send
from scheduler.bulletin_sends import approval, requests
from scheduler.consultations import planning

BASE = "https://consult.example.org"


def write(db: Database, author: User, *, body: str = "Hello **partners**.") -> int:
    with db.transaction() as session:
        made = compose.create(
            session,
            compose.Draft(
                kind="bulletin",
                template_id=None,
                subject="Stakeholder Special: March",
                preheader="What is new",
                body_markdown=body,
            ),
            by=session.get(User, author.id),
        )
        return made.id


def submit(
    db: Database,
    config: Config,
    bulletin_id: int,
    by: User,
    list_id: int,
    *,
    now: datetime,
    at: datetime | None = None,
) -> int:
    with db.transaction() as session:
        send = requests.request(
            session,
            session.get(Bulletin, bulletin_id),
            audience=Audience.of(lists=[list_id]),
            at=at,
            by=session.get(User, by.id),
            now=now,
            rules=planning.rules_for(session, config),
        )
        return send.id


def version(db: Database, send_id: int) -> str:
    with db.transaction() as session:
        send = session.get(Send, send_id)
        bulletin = session.get(Bulletin, send.bulletin_id)
        return approval.content_hash(session, send, bulletin, base_url=BASE)


def approve(
    db: Database,
    config: Config,
    send_id: int,
    by: User,
    *,
    now: datetime,
    seen: str | None = None,
) -> Send:
    with db.transaction() as session:
        return approval.approve(
            session,
            session.get(Send, send_id),
            by=session.get(User, by.id),
            now=now,
            rules=planning.rules_for(session, config),
            version=seen,
            two_person=True,
            base_url=BASE,
        )


def edit(db: Database, bulletin_id: int, by: User, body: str) -> str | None:
    """The bulletin editor's steps (mailer/bulletins/views.py edit)."""
    from scheduler import edits

    with db.transaction() as session:
        bulletin = session.get(Bulletin, bulletin_id)
        user = session.get(User, by.id)
        edits.before_message_edit(session, bulletin)
        changed = compose.update(
            session,
            bulletin,
            compose.Draft(
                kind=bulletin.kind,
                template_id=bulletin.template_id,
                subject=bulletin.subject,
                preheader=bulletin.preheader,
                body_markdown=body,
            ),
            by=user,
        )
        return edits.message_changed(session, bulletin, changed=changed, by=user, now=NOW_EDIT)


NOW_EDIT = datetime.fromisoformat("2027-01-11T11:00:00+00:00")
