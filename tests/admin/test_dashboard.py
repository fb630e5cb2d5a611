"""The dashboard answers a comms officer's first questions."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from contacts import subscriptions
from contacts.models import Contact
from mailer.database import Database
from mailer.delivery.models import FAILED, Delivery
from tests.tracking.helpers import launched


def test_it_shows_what_is_open_being_sent_failing_and_leaving(
    app: Flask, db: Database, admin_client: FlaskClient
) -> None:
    _cid, _messages = launched(app, db)
    with db.transaction() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.address == "partner1@example.org")
            .values(state=FAILED, last_reply="550 5.1.1 user unknown")
        )
        leaver = session.scalar(select(Contact).where(Contact.email == "partner2@example.org"))
        subscriptions.unsubscribe(session, leaver, send_id=None, one_click=True)
    page = admin_client.get("/admin/").get_data(as_text=True)
    assert "Open consultations" in page and "Draft Police and Crime Plan</a>: closes" in page
    assert "partner1@example.org in" in page and "550 5.1.1 user unknown" in page
    assert "Person 2</a>, Northshire partner" in page
    assert "Next messages" in page and "Reminder" in page
    assert "The scheduler is not running" in page
