"""A send ready for the workers: contacts on a list, a bulletin, its delivery rows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from contacts.models import Contact, ContactList, ListMembership
from mailer.accounts.models import User
from mailer.bulletins import compose
from mailer.config import Config
from mailer.database import Database
from mailer.delivery import sends, transport_for
from mailer.delivery.worker import Worker
from tests.conftest import make_config

START = datetime(2027, 7, 20, 9, 0, tzinfo=UTC)
DOMAIN = "pcc.example.org"


class Clock:
    """The time the code under test sees; tests move it on instead of sleeping."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def smtp_config(tmp_path: Path, db: Database, port: int, **smtp: Any) -> Config:
    return make_config(
        tmp_path,
        db.url,
        mail={"transport": "smtp", "from_address": f"Northshire PCC <news@{DOMAIN}>"},
        smtp={"host": "127.0.0.1", "port": port, "security": "none", "timeout": "5s", **smtp},
    )


def make_send(
    db: Database,
    *,
    addresses: list[str],
    author: User,
    now: datetime = START,
    due: bool = True,
) -> int:
    """A general bulletin to a list holding ``addresses``; its rows made when ``due``."""
    with db.transaction() as session:
        partners = ContactList(name=f"Partners {uuid.uuid4().hex[:8]}")
        session.add(partners)
        for number, address in enumerate(addresses):
            contact = Contact(
                email=address,
                email_key=address.casefold(),
                name=f"Person {number}",
                organisation="Northshire Council",
            )
            session.add(contact)
            session.add(ListMembership(list=partners, contact=contact))
        session.flush()
        bulletin = compose.create(
            session,
            compose.Draft(
                kind="bulletin",
                template_id=None,
                subject="Stakeholder Special: news",
                preheader="What is new",
                body_markdown="Hello **partners**.",
            ),
            by=session.get(User, author.id),
        )
        send = sends.create(session, bulletin, audience={"lists": [partners.id]}, due_at=now)
        if due:
            sends.make_due(session, send, now=now, domain=DOMAIN)
        return send.id


def worker(db: Database, config: Config, clock: Clock, name: str = "w1", **kw: Any) -> Worker:
    kw.setdefault("transport", transport_for(config))
    return Worker(
        db,
        config,
        secret_keys=[config.app.secret_key],
        name=name,
        clock=clock,
        **kw,
    )
