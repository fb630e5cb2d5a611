"""Per-person tracking (off by default): a stakeholder's survey link names them, and a
consultation may leave those who followed it out of its reminders."""

from __future__ import annotations

import time
from pathlib import Path

from flask import Flask
from sqlalchemy import select, update

from mailer.app import create_app
from mailer.database import Database, utcnow
from mailer.delivery.models import SKIPPED, Delivery, Send
from mailer.tracking.links import SKIP_RESPONDED
from mailer.tracking.models import ClickCount, PersonClick
from scheduler.models import Consultation
from scheduler.runner import Scheduler
from tests.conftest import make_config
from tests.tracking.helpers import launched

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Chrome/126"
ANY_TIME = {"quiet_hours": "", "send_on_weekends": True, "holidays": ""}


def test_a_reminder_leaves_out_who_followed_the_survey_link(tmp_path: Path, db: Database) -> None:
    config = make_config(tmp_path, db.url, tracking={"per_person": True}, scheduler=ANY_TIME)
    app: Flask = create_app(config)
    app.config["TESTING"] = True
    try:
        cid, messages = launched(app, db)
        responder = messages["partner3@example.org"]
        assert responder.survey.count("/") == 3  # /r/<token>/<code>: it names its reader
        client = app.test_client()
        client.environ_base["HTTP_USER_AGENT"] = BROWSER
        assert client.get(responder.survey).headers["Location"] == "https://survey.example.org/plan"
        with db.transaction() as session:
            assert session.scalar(select(PersonClick.contact_id)) is not None
            assert session.scalar(select(ClickCount.count)) == 1
            session.execute(
                update(Consultation).where(Consultation.id == cid).values(skip_responders=True)
            )
            reminder = session.scalar(
                select(Send)
                .where(Send.consultation_id == cid, Send.kind == "reminder")
                .order_by(Send.due_at)
                .limit(1)
            )
            session.execute(update(Send).where(Send.id == reminder.id).values(due_at=utcnow()))
        scheduler = Scheduler(db, config)
        try:
            scheduler.step()
            deadline = time.monotonic() + 5
            while scheduler.fired < 1:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        finally:
            scheduler.step_down()
        with db.transaction() as session:
            skipped = session.execute(
                select(Delivery.address, Delivery.skip_reason).where(
                    Delivery.send_id == reminder.id, Delivery.state == SKIPPED
                )
            ).all()
        assert skipped == [("partner3@example.org", SKIP_RESPONDED)]
    finally:
        app.extensions["mailer.db"].dispose()


def test_without_per_person_no_one_is_named(app: Flask, db: Database) -> None:
    _cid, messages = launched(app, db)
    message = messages["partner3@example.org"]
    assert message.survey.count("/") == 2  # /r/<token>: the same for everyone
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = BROWSER
    client.get(message.survey)
    with db.transaction() as session:
        assert session.scalar(select(PersonClick.id)) is None
        assert session.scalar(select(ClickCount.count)) == 1
