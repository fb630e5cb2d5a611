"""A general bulletin (no consultation) whose body links to the web, sent to a list."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select

from contacts.models import Contact, ContactList, ListMembership
from mailer.accounts.models import User
from mailer.bulletins import compose
from mailer.config import Config
from mailer.database import Database, utcnow
from mailer.delivery import sends
from mailer.delivery.models import LINK_BODY, Send, TrackedLink
from mailer.tracking import links

DOMAIN = "pcc.example.org"
BODY = (
    "Our [annual report](https://example.org/report?year=2026&part=1) is out.\n\n"
    "Read [the plan](https://example.org/plan) too, "
    "or [write to us](mailto:office@pcc.example.org)."
)
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Chrome/126"


def add_contacts(db: Database, list_id: int, addresses: list[str]) -> None:
    with db.transaction() as session:
        for number, address in enumerate(addresses):
            contact = Contact(email=address, email_key=address.casefold(), name=f"Person {number}")
            session.add(contact)
            session.add(ListMembership(list_id=list_id, contact=contact))


def bulletin_send(
    db: Database,
    config: Config,
    *,
    addresses: list[str],
    author: User,
    body: str = BODY,
    now: datetime | None = None,
) -> int:
    """The send of a general bulletin to a list holding ``addresses``, fallen due as the
    scheduler makes it (delivery rows, then tracked links)."""
    now = now or utcnow()
    with db.transaction() as session:
        partners = ContactList(name=f"Partners {uuid.uuid4().hex[:8]}")
        session.add(partners)
        session.flush()
        list_id = partners.id
    add_contacts(db, list_id, addresses)
    with db.transaction() as session:
        bulletin = compose.create(
            session,
            compose.Draft(
                kind="bulletin",
                template_id=None,
                subject="Stakeholder Special: news",
                preheader="What is new",
                body_markdown=body,
            ),
            by=session.get(User, author.id),
        )
        send_id = sends.create(session, bulletin, audience={"lists": [list_id]}, due_at=now).id
    fire(db, config, send_id, now=now)
    return send_id


def fire(db: Database, config: Config, send_id: int, *, now: datetime | None = None) -> None:
    """What the scheduler does when a send falls due (again, for late joiners)."""
    with db.transaction() as session:
        send = session.get(Send, send_id)
        assert send is not None
        sends.make_due(session, send, now=now or utcnow(), domain=DOMAIN)
        links.prepare_send(session, send, base_url=config.app.base_url, links=config.tracking.links)


def body_links(db: Database, send_id: int) -> dict[str, TrackedLink]:
    with db.transaction() as session:
        found = session.scalars(
            select(TrackedLink).where(TrackedLink.send_id == send_id, TrackedLink.kind == LINK_BODY)
        ).all()
        session.expunge_all()
        return {link.target: link for link in found}
