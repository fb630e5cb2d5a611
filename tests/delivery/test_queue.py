"""The queue of mail requests ask for: erasure reaches it, and a relay that refuses a
message for good is recorded, not retried."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from contacts import data_rights
from contacts.models import Contact
from mailer.accounts.models import User
from mailer.config import Config
from mailer.database import Database, utcnow
from mailer.delivery import pool, queue, switch
from mailer.delivery.models import MAIL_SIGNUP, MAIL_TEST, QueuedMessage
from tests.conftest import add_user, make_config
from tests.smtp_server import smtp_server


def relay_config(tmp_path: Path, db: Database, port: int) -> Config:
    return make_config(
        tmp_path,
        db.url,
        mail={"transport": "smtp"},
        smtp={"host": "127.0.0.1", "port": port, "security": "none"},
    )


def _queue(db: Database, recipient: str, kind: str = MAIL_SIGNUP) -> int:
    with db.transaction() as session:
        return queue.enqueue(
            session,
            kind=kind,
            sender="news@pcc.example.org",
            recipient=recipient,
            data=f"To: {recipient}\r\nSubject: hello\r\n\r\nhello\r\n".encode(),
            now=utcnow(),
        ).id


def test_erasure_scrubs_the_address_and_what_was_not_sent_never_goes(
    tmp_path: Path, db: Database
) -> None:
    admin = add_user(db, email="admin@example.org", role="admin")
    with db.transaction() as session:
        session.add(Contact(email="Sam@example.org", email_key="sam@example.org", name="Sam"))
    waiting = _queue(db, "Sam@example.org")
    other = _queue(db, "other@example.org", MAIL_TEST)
    with db.transaction() as session:
        contact = session.scalars(select(Contact)).one()
        data_rights.erase(
            session, contact, by=session.get(User, admin.id), scrubbers=[queue.scrub_queued]
        )
    with db.transaction() as session:
        erased = session.get(QueuedMessage, waiting)
        kept = session.get(QueuedMessage, other)
        assert (erased.recipient, erased.recipient_key, erased.data) == ("", "", b"")
        assert erased.state == "failed" and "erased" in erased.last_reply
        assert kept.recipient == "other@example.org" and kept.state == "queued"

    with smtp_server() as server:
        config = relay_config(tmp_path, db, server.port)
        assert pool.run_once(db, config) == 1
    assert [r.recipients for r in server.received] == [["other@example.org"]]


def test_a_permanent_refusal_is_recorded_once(tmp_path: Path, db: Database) -> None:
    gone = _queue(db, "gone@example.org")
    with smtp_server() as server:
        server.refuse["gone@example.org"] = "550 5.1.1 user unknown"
        config = relay_config(tmp_path, db, server.port)
        assert pool.run_once(db, config) == 0
        assert pool.run_once(db, config) == 0  # not tried again
    with db.transaction() as session:
        row = session.get(QueuedMessage, gone)
    assert row.state == "failed" and "550 5.1.1 user unknown" in row.last_reply
    assert row.attempts == 1 and row.data == b""


def test_a_one_off_message_keeps_the_from_address_as_envelope_sender(
    tmp_path: Path, db: Database
) -> None:
    """With a bounce address set, a proof or a sign-up confirmation has no delivery for
    a bounce to name: its bounce goes back to the office's own address."""
    _queue(db, "someone@example.org", MAIL_TEST)
    with smtp_server() as server:
        config = make_config(
            tmp_path,
            db.url,
            mail={"transport": "smtp"},
            smtp={"host": "127.0.0.1", "port": server.port, "security": "none"},
            bounces={"address": "bounces@pcc.example.org"},
        )
        assert pool.run_once(db, config) == 1
        assert [r.sender for r in server.received] == ["news@pcc.example.org"]


def test_retention_removes_finished_queued_messages(db: Database) -> None:
    old = _queue(db, "old@example.org")
    waiting = _queue(db, "waiting@example.org")
    with db.transaction() as session:
        session.get(QueuedMessage, old).state = "sent"
        later = utcnow() + timedelta(days=731)
        assert queue.purge(session, now=later, keep=timedelta(days=730)) == 1
    with db.transaction() as session:
        assert session.get(QueuedMessage, old) is None
        assert session.get(QueuedMessage, waiting) is not None  # not finished: kept


def test_stopping_all_sending_holds_queued_mail_until_the_restart(
    tmp_path: Path, db: Database
) -> None:
    admin = add_user(db, email="admin@example.org", role="admin")
    _queue(db, "someone@example.org")
    with db.transaction() as session:
        switch.stop(session, by=session.get(User, admin.id), reason="Incident", now=utcnow())
    with smtp_server() as server:
        config = relay_config(tmp_path, db, server.port)
        assert pool.run_once(db, config) == 0
        assert server.received == []
        with db.transaction() as session:
            switch.resume(session, by=session.get(User, admin.id), now=utcnow())
        assert pool.run_once(db, config) == 1
    assert [r.recipients for r in server.received] == [["someone@example.org"]]
