"""Erasure reaches what delivery keeps: the rows' addresses and replies, outbox files."""

from __future__ import annotations

from flask import Flask, has_app_context
from sqlalchemy import select, update

from contacts import data_rights
from contacts.data_rights import ERASURE_SCRUBBERS
from contacts.models import Contact
from mailer.accounts.models import User
from mailer.config import Config
from mailer.database import Database
from mailer.delivery import OUTBOX_FOLDER
from mailer.delivery.models import FAILED, Delivery
from mailer.delivery.outbox import OutboxTransport
from mailer.personal_data import erasure_scrubbers
from tests.contacts.test_data_rights import all_text
from tests.delivery.helpers import make_send

ADDRESS = "Alice.Smith@example.org"


def test_erasure_scrubs_delivery_rows_and_outbox_files(
    app: Flask, db: Database, admin_user: User
) -> None:
    send_id = make_send(db, addresses=[ADDRESS, "other@example.org"], author=admin_user)
    with db.transaction() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.address == ADDRESS)
            .values(state=FAILED, last_reply=f"550 5.1.1 <{ADDRESS.lower()}>: user unknown")
        )
    outbox = OutboxTransport(app.config["MAILER"].instance_path / "outbox")
    outbox.send(sender="a", recipient=ADDRESS, data=f"To: {ADDRESS}\r\n\r\nHi\r\n".encode())
    outbox.send(sender="a", recipient="other", data=b"To: other@example.org\r\n\r\nHi\r\n")

    with app.app_context(), db.transaction() as session:
        contact = session.scalar(select(Contact).where(Contact.email == ADDRESS))
        data_rights.erase(
            session,
            contact,
            by=session.get(User, admin_user.id),
            scrubbers=app.extensions[ERASURE_SCRUBBERS],
        )

    assert "alice.smith@example.org" not in all_text(db)
    with db.transaction() as session:
        rows = session.scalars(select(Delivery).where(Delivery.send_id == send_id)).all()
        erased = next(r for r in rows if r.contact_id is None)
        assert erased.address == "" and erased.last_reply == "550 5.1.1 <[erased]>: user unknown"
        assert len(rows) == 2  # the send's counts stay true
    remaining = list(outbox.folder.glob("*.eml"))
    assert len(remaining) == 1 and b"other@example.org" in remaining[0].read_bytes()


def test_erasure_outside_a_request_scrubs_outbox_files(
    config: Config, db: Database, admin_user: User
) -> None:
    """The command line and the workers have no app context: erasing there reaches the
    outbox too, because the scrubbers are built from the configuration alone."""
    with db.transaction() as session:
        session.add(Contact(email=ADDRESS, email_key=ADDRESS.casefold(), name="Alice"))
    outbox = OutboxTransport(config.instance_path / OUTBOX_FOLDER)
    outbox.send(sender="a", recipient=ADDRESS, data=f"To: {ADDRESS}\r\n\r\nHi\r\n".encode())
    outbox.send(sender="a", recipient="other", data=b"To: other@example.org\r\n\r\nHi\r\n")

    assert not has_app_context()
    with db.transaction() as session:
        contact = session.scalar(select(Contact).where(Contact.email == ADDRESS))
        data_rights.erase(
            session,
            contact,
            by=session.get(User, admin_user.id),
            scrubbers=erasure_scrubbers(config),
        )

    remaining = list(outbox.folder.glob("*.eml"))
    assert len(remaining) == 1 and b"other@example.org" in remaining[0].read_bytes()


def test_the_app_erases_with_every_scrubber(app: Flask, config: Config) -> None:
    scrubbers = app.extensions[ERASURE_SCRUBBERS]
    assert scrubbers == erasure_scrubbers(config)
    names = {getattr(s, "__name__", type(s).__name__) for s in scrubbers}
    assert names == {
        "UploadScrubber",
        "scrub_deliveries",
        "OutboxScrubber",
        "scrub_queued",
        "scrub_webhooks",
        "scrub_sign_ups",
        "scrub_bounces",
        "scrub_kept_answers",
    }
