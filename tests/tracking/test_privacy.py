"""Erasure and retention reach the tracking records."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select

from contacts import data_rights
from contacts.data_rights import ERASURE_SCRUBBERS
from contacts.models import Contact
from mailer.accounts.models import User
from mailer.database import Database, utcnow
from mailer.delivery.models import ShareCode
from mailer.tracking import privacy
from mailer.tracking.models import ShareVisit, SignUp
from tests.contacts.test_data_rights import all_text
from tests.tracking.helpers import consultation, launched


def test_erasure_removes_sign_ups_and_keeps_the_counts(app: Flask, db: Database) -> None:
    cid, messages = launched(app, db)
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = "Mozilla/5.0 Chrome/126"
    client.get(messages["partner0@example.org"].share)
    with db.transaction() as session:
        code = session.scalar(select(ShareCode).where(ShareCode.contact_id.is_not(None)))
        session.add(
            SignUp(
                consultation_id=cid,
                email="Partner0@example.org",
                email_key="partner0@example.org",
                token="t" * 32,
                share_code_id=code.id,
            )
        )
    with app.app_context(), db.transaction() as session:
        contact = session.scalar(select(Contact).where(Contact.email_key == "partner0@example.org"))
        data_rights.erase(
            session,
            contact,
            by=session.scalar(select(User)),
            scrubbers=app.extensions[ERASURE_SCRUBBERS],
        )
    assert "partner0@example.org" not in all_text(db)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(SignUp)) == 0
        visits = session.scalar(select(func.sum(ShareVisit.count)))
        orphan = session.scalar(
            select(func.count()).select_from(ShareCode).where(ShareCode.contact_id.is_(None))
        )
    assert visits == 1 and orphan == 1
    assert consultation(db, cid).slug


def test_retention_deletes_tracking_records_past_the_limit(app: Flask, db: Database) -> None:
    _cid, messages = launched(app, db)
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = "Mozilla/5.0 Chrome/126"
    client.get(messages["partner1@example.org"].share)
    client.get(messages["partner1@example.org"].survey)
    with db.transaction() as session:
        assert privacy.purge(session, now=utcnow(), keep=timedelta(days=730)) == 0
    with db.transaction() as session:
        later = utcnow() + timedelta(days=800)
        assert privacy.purge(session, now=later, keep=timedelta(days=730)) == 2
        assert session.scalar(select(func.count()).select_from(ShareVisit)) == 0
