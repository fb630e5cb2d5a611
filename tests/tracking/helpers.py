"""A consultation launched to ten stakeholders through the outbox, with every link each
message carries, for the cascade tests."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

from mailer.accounts import roles
from mailer.accounts.models import User
from mailer.database import Database, utcnow
from mailer.delivery import pool, sends
from mailer.delivery.models import Send
from mailer.tracking import links
from scheduler.consultations import editing, lifecycle, planning
from scheduler.consultations.details import Details
from scheduler.models import Consultation
from tests.conftest import add_user
from tests.scheduler.audience import make_list

BASE = "http://127.0.0.1:5000"
STAKEHOLDERS = [
    (f"partner{n}@example.org", kind)
    for n, kind in enumerate(
        ["Local authority"] * 4 + ["Voluntary and community group"] * 3 + ["Health"] * 3
    )
]


@dataclass
class Message:
    address: str
    text: str

    def link(self, pattern: str) -> str:
        found = re.search(pattern, self.text)
        assert found, f"no {pattern} in the message to {self.address}"
        return found.group(0)

    @property
    def share(self) -> str:
        return self.link(r"/s/[A-Za-z0-9_-]+(?![A-Za-z0-9_/-])")

    @property
    def survey(self) -> str:
        return self.link(r"/r/[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)?")


def launched(app: Flask, db: Database, server: Any = None) -> tuple[int, dict[str, Message]]:
    """An approved consultation whose launch went out (to the outbox, or to the test
    SMTP ``server``): id, and the message each stakeholder got (by address)."""
    partners = make_list(db, STAKEHOLDERS)
    editor = add_user(db, email="editor@example.org", role=roles.EDITOR)
    approver = add_user(db, email="approver@example.org", role=roles.APPROVER)
    config = app.config["MAILER"]
    now = utcnow()
    with db.transaction() as session:
        created, _ = editing.create(
            session,
            Details(
                title="Draft Police and Crime Plan",
                opens_at=now,
                closes_at=now + timedelta(days=30),
                survey_url="https://survey.example.org/plan",
                lists=(partners,),
            ),
            by=session.get(User, editor.id),
            rules=planning.rules_for(session, config),
            now=now,
        )
        lifecycle.submit(session, created, by=session.get(User, editor.id), now=now)
        lifecycle.approve(
            session,
            created,
            by=session.get(User, approver.id),
            two_person=True,
            base_url=config.app.base_url,
            now=now,
        )
        launch = session.scalars(
            select(Send).where(Send.consultation_id == created.id, Send.slot == "launch")
        ).one()
        # What the scheduler does when the launch fires (scheduler/runner.py).
        sends.make_due(session, launch, now=now, domain="example.org")
        links.prepare_send(
            session, launch, base_url=config.app.base_url, links=config.tracking.links
        )
        cid = created.id
    pool.run_once(app.extensions["mailer.db"], config)
    if server is not None:
        return cid, parse([m.data for m in server.received])
    return cid, read_outbox(config.instance_path / "outbox")


def read_outbox(folder: Path) -> dict[str, Message]:
    return parse([path.read_bytes() for path in sorted(folder.glob("*.eml"))])


def parse(raw: list[bytes]) -> dict[str, Message]:
    parser = BytesParser(policy=policy.default)
    found: dict[str, Message] = {}
    for data in raw:
        message = parser.parsebytes(data)
        text = message.get_body(preferencelist=("plain",)).get_content()
        address = message["To"].addresses[0].addr_spec
        found[address] = Message(address, text)
    return found


def consultation(db: Database, cid: int) -> Consultation:
    with db.transaction() as session:
        return session.get(Consultation, cid)
