"""The send report counts a message that bounced after it was handed over as bounced
(not delivered), counts complaints, and lists bounces with the failures."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from mailer.accounts.models import User
from mailer.bounces.models import COMPLAINT
from mailer.database import Database
from mailer.delivery.models import Send
from mailer.tracking import send_reports
from tests.bounces.pages_helpers import bounce_back, refuse, sent_send
from tests.delivery.helpers import START

ADDRESSES = ["gone@example.org", "angry@example.org", "typo@example.org", "fine@example.org"]


def test_bounced_is_not_delivered_in_the_report_and_its_csv(
    admin_client: FlaskClient, db: Database, admin_user: User
) -> None:
    send_id = sent_send(db, addresses=ADDRESSES, author=admin_user)
    bounce_back(db, send_id=send_id, address=ADDRESSES[0], now=START + timedelta(hours=1))
    bounce_back(
        db, send_id=send_id, address=ADDRESSES[1], now=START + timedelta(hours=2), kind=COMPLAINT
    )
    refuse(db, send_id=send_id, address=ADDRESSES[2], reply="550 5.1.1 no such user")

    with db.transaction() as session:
        send = session.scalar(select(Send).where(Send.id == send_id))
        assert send is not None
        report = send_reports.send_report(session, send)
    counts = report.counts
    assert (counts.delivered, counts.bounced, counts.failed, counts.complaints) == (2, 1, 1, 1)
    assert counts.recipients == 4
    assert {(f.address, f.what) for f in report.failures} == {
        (ADDRESSES[0], "Bounced after sending"),
        (ADDRESSES[2], "Refused by the relay"),
    }

    page = admin_client.get(f"/admin/sends/{send_id}/report").get_data(as_text=True)
    assert "Bounced after sending" in page and "Complaints (marked as spam)" in page
    assert "The address does not exist<br>" in page and "5.1.1 smtp; 550" not in page
    assert '<span class="small muted">user unknown</span>' in page

    rows = list(
        csv.reader(
            io.StringIO(
                admin_client.get(f"/admin/sends/{send_id}/report.csv").get_data(as_text=True)
            )
        )
    )
    assert ["Delivered", "2"] in rows and ["Bounced after sending", "1"] in rows
    assert ["Complaints (marked as spam)", "1"] in rows and ["Failed", "1"] in rows
    assert [ADDRESSES[0], "1", "5.1.1 smtp; 550 5.1.1 user unknown", "True", "bounced"] in rows
