"""Erasure leaves no trace of a person in bounce records or stored messages, and
retention deletes stored messages, bounce records and webhook receipts in time."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from contacts import data_rights
from contacts.models import Contact
from mailer.accounts.models import User
from mailer.bounces import privacy, processing
from mailer.bounces.models import COMPLAINT, SOFT, Bounce, BounceMessage, WebhookReceipt
from mailer.bounces.reports import REPORT_BOUNCE, Failure, Report
from mailer.config import Config
from mailer.database import Database, utcnow
from mailer.housekeeping import run_once
from mailer.personal_data import erasure_scrubbers
from tests.bounces.pages_helpers import LIMITS, bounce_back, sent_send
from tests.conftest import make_config
from tests.delivery.helpers import START

GONE = "Alice.Erased@Example.org"
OTHER = "bob@example.org"


def every_value(db: Database) -> str:
    """Every column of every row of both tables, as one lowercase text."""
    with db.transaction() as session:
        values: list[str] = []
        for table in (Bounce.__table__, BounceMessage.__table__):
            for row in session.execute(select(table)):
                for value in row:
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace")
                    values.append(str(value))
        return "\n".join(values).casefold()


def test_erasure_leaves_no_trace_in_bounces_or_stored_messages(
    config: Config, db: Database, admin_user: User
) -> None:
    send_id = sent_send(db, addresses=[GONE, OTHER], author=admin_user)
    bounce_back(
        db,
        send_id=send_id,
        address=GONE,
        now=START + timedelta(hours=1),
        kind=SOFT,
        status="4.2.2",
        diagnostic=f"452 4.2.2 <{GONE.lower()}>: mailbox full",
    )
    bounce_back(db, send_id=send_id, address=GONE, now=START + timedelta(hours=2), kind=COMPLAINT)
    # A digest that names both of them, stored once for Bob's bounce.
    bounce_back(
        db,
        send_id=send_id,
        address=OTHER,
        now=START + timedelta(hours=3),
        raw=f"Subject: failures\r\n\r\n{OTHER}: 550 unknown\r\n{GONE}: 452 full\r\n".encode(),
    )
    # A forged report, matched to nothing, naming her: kept by address alone.
    with db.transaction() as session:
        processing.record(
            session,
            Report(
                kind=REPORT_BOUNCE,
                source="mailbox",
                fingerprint="forged",
                failures=(Failure(address=GONE, kind="hard", status="5.1.1"),),
                raw=f"To: x\r\n\r\n{GONE} does not exist\r\n".encode(),
            ),
            limits=LIMITS,
            now=START + timedelta(hours=4),
        )
    assert GONE.casefold() in every_value(db)
    with db.transaction() as session:
        before = session.scalar(select(func.count()).select_from(Bounce))

    with db.transaction() as session:
        contact = session.scalar(select(Contact).where(Contact.email == GONE))
        admin = session.get(User, admin_user.id)
        assert contact is not None and admin is not None
        data_rights.erase(
            session,
            contact,
            by=admin,
            scrubbers=erasure_scrubbers(config),
        )

    assert GONE.casefold() not in every_value(db)
    with db.transaction() as session:
        # The records stay (a send's figures stay true), unlinked and without the address.
        assert session.scalar(select(func.count()).select_from(Bounce)) == before
        mine = session.scalars(select(Bounce).where(Bounce.address == "")).all()
        assert len(mine) == 3
        assert all(b.contact_id is None and b.email_key == "" for b in mine)
        assert all(b.message_ref is None for b in mine)
        # Bob's record stays his, though the message it came in (naming her) is gone.
        bob = session.scalar(select(Bounce).where(Bounce.address == OTHER))
        assert bob is not None and bob.contact_id is not None and bob.message_ref is None


def test_retention_deletes_old_messages_records_and_receipts(
    db: Database, admin_user: User
) -> None:
    send_id = sent_send(
        db, addresses=["a@example.org", "b@example.org", "c@example.org"], author=admin_user
    )
    now = START + timedelta(days=400)
    # a: a year and more ago (record and message go); b: 60 days ago (the message
    # goes, the record stays); c: yesterday (both stay).
    for address, age in (("a@example.org", 380), ("b@example.org", 60), ("c@example.org", 1)):
        bounce_back(db, send_id=send_id, address=address, now=now - timedelta(days=age))
    with db.transaction() as session:
        session.add(WebhookReceipt(provider="ses", key="old", received_at=now - timedelta(days=3)))
        session.add(WebhookReceipt(provider="ses", key="new", received_at=now - timedelta(hours=5)))

    with db.transaction() as session:
        assert privacy.purge_messages(session, now=now, keep=timedelta(days=30)) == 2
        assert privacy.purge_bounces(session, now=now, keep=timedelta(days=365)) == 1
        assert privacy.purge_receipts(session, now=now) == 1
    with db.transaction() as session:
        kept = {b.address: b.message_ref for b in session.scalars(select(Bounce))}
        assert set(kept) == {"b@example.org", "c@example.org"}
        assert kept["b@example.org"] is None and kept["c@example.org"] is not None
        assert session.scalar(select(func.count()).select_from(BounceMessage)) == 1
        assert set(session.scalars(select(WebhookReceipt.key))) == {"new"}


def test_housekeeping_applies_the_bounce_periods(
    tmp_path: Path, db: Database, admin_user: User
) -> None:
    config = make_config(tmp_path, db.url, bounces={"keep_messages": "7d"})
    send_id = sent_send(db, addresses=["a@example.org"], author=admin_user)
    # Recorded 10 days before the real now (housekeeping runs at the real time).
    bounce_back(db, send_id=send_id, address="a@example.org", now=utcnow() - timedelta(days=10))
    assert run_once(db, config) >= 1
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(BounceMessage)) == 0
        assert session.scalar(select(func.count()).select_from(Bounce)) == 1
