"""A message that bounced after it was handed over shows as bounced, not sent, on the
send's page, in its status, and in its failures CSV; a refusal during sending is
labelled as the relay's."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from flask.testing import FlaskClient

from mailer.accounts.models import User
from mailer.bounces.models import COMPLAINT
from mailer.database import Database
from tests.bounces.pages_helpers import bounce_back, refuse, sent_send
from tests.delivery.helpers import START

ADDRESSES = ["gone@example.org", "angry@example.org", "typo@example.org", "fine@example.org"]


def went_and_came_back(db: Database, author: User) -> int:
    send_id = sent_send(db, addresses=ADDRESSES, author=author)
    bounce_back(db, send_id=send_id, address=ADDRESSES[0], now=START + timedelta(hours=1))
    bounce_back(
        db, send_id=send_id, address=ADDRESSES[1], now=START + timedelta(hours=2), kind=COMPLAINT
    )
    refuse(db, send_id=send_id, address=ADDRESSES[2], reply="550 5.1.1 no such user")
    return send_id


def test_the_send_page_counts_bounces_and_complaints(
    admin_client: FlaskClient, db: Database, admin_user: User
) -> None:
    send_id = went_and_came_back(db, admin_user)
    page = f"/admin/sends/{send_id}"
    status = admin_client.get(f"{page}/status.json").get_json()
    assert (status["sent"], status["bounced"], status["failed"], status["complaints"]) == (
        2,
        1,
        1,
        1,
    )
    html = admin_client.get(page).get_data(as_text=True)
    assert '<dt>Bounced after sending</dt><dd data-field="bounced">1</dd>' in html
    assert '<dd data-field="complaints">1</dd>' in html
    assert "bounced after sending</span>" in html and "5.1.1 smtp; 550" not in html
    assert "The address does not exist<br>" in html
    assert '<span class="small muted">user unknown</span>' in html
    assert "refused by the relay</span>" in html
    assert '<span class="small muted">no such user</span>' in html
    assert f"/admin/bounces?send={send_id}" in html
    report = admin_client.get(f"{page}/report").get_data(as_text=True)
    assert "The address does not exist<br>" in report and "5.1.1 smtp; 550" not in report
    assert '<span class="small muted">user unknown</span>' in report
    listing = admin_client.get("/admin/sends/").get_data(as_text=True)
    assert '<td data-label="Bounced">1</td>' in listing

    rows = list(
        csv.reader(io.StringIO(admin_client.get(f"{page}/failures.csv").get_data(as_text=True)))
    )
    assert rows[0] == ["address", "attempts", "reply", "hard_bounce", "state"]
    by_address = {row[0]: row for row in rows[1:]}
    assert set(by_address) == {ADDRESSES[0], ADDRESSES[2]}
    assert by_address[ADDRESSES[0]][2:] == ["5.1.1 smtp; 550 5.1.1 user unknown", "True", "bounced"]
    assert by_address[ADDRESSES[2]][3:] == ["True", "failed"]
