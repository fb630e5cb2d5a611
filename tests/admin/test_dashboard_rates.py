"""The dashboard gives each recent send's bounce and complaint rates and warns, in
words a comms officer acts on, above 5 % bounces and 0.3 % complaints."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import update

from mailer.accounts.models import User
from mailer.bounces import rates
from mailer.bounces.models import COMPLAINT
from mailer.database import Database, utcnow
from mailer.delivery.models import Send
from tests.bounces.pages_helpers import bounce_back, refuse, sent_send


def test_rates_and_warnings_per_recent_send(
    admin_client: FlaskClient, db: Database, admin_user: User
) -> None:
    now = utcnow()
    quiet = sent_send(db, addresses=[f"q{n}@example.org" for n in range(400)], author=admin_user)
    noisy = sent_send(db, addresses=[f"n{n}@example.org" for n in range(20)], author=admin_user)
    with db.transaction() as session:
        session.execute(
            update(Send).where(Send.id.in_((quiet, noisy))).values(fired_at=now, state="done")
        )
    # quiet: 1 complaint of 400 delivered (0.25 %), no bounce; noisy: 1 bounce and 1
    # refusal of 20 (10 %), 1 complaint of 18 delivered (5.6 %).
    bounce_back(db, send_id=quiet, address="q0@example.org", now=now, kind=COMPLAINT)
    bounce_back(db, send_id=noisy, address="n0@example.org", now=now)
    refuse(db, send_id=noisy, address="n1@example.org", reply="550 5.1.1 unknown")
    bounce_back(db, send_id=noisy, address="n2@example.org", now=now, kind=COMPLAINT)

    with db.transaction() as session:
        found = rates.by_send(session, [quiet, noisy])
    assert found[quiet] == rates.Rates(delivered=400, complaints=1)
    assert not found[quiet].too_many_complaints and not found[quiet].too_many_bounces
    assert found[noisy] == rates.Rates(delivered=18, bounced=1, refused=1, complaints=1)
    assert found[noisy].too_many_bounces and found[noisy].too_many_complaints
    assert rates.percent(found[quiet].complaint_rate) == "0.25 %"
    assert rates.percent(found[noisy].bounce_rate) == "10.0 %"
    assert rates.percent(None) == "-"
    assert (rates.limit(rates.COMPLAINT_LIMIT), rates.limit(rates.BOUNCE_LIMIT)) == ("0.3 %", "5 %")

    page = admin_client.get("/admin/").get_data(as_text=True)
    assert "Bounces and complaints" in page
    assert "0.25 %" in page and "(1 of 400)" in page
    assert "10.0 %" in page and "(2 of 20)" in page and "(1 of 18)" in page
    assert "Gmail and Yahoo ask bulk senders to stay under 0.3 %" in page
    assert "5.6 % of the people who got it marked it as spam." in page
    assert "10.0 % of its messages bounced." in page
    assert page.count("What to do:") == 2


def test_old_sends_are_left_out(admin_client: FlaskClient, db: Database, admin_user: User) -> None:
    old = sent_send(db, addresses=["a@example.org"], author=admin_user)
    with db.transaction() as session:
        session.execute(
            update(Send)
            .where(Send.id == old)
            .values(fired_at=utcnow() - timedelta(days=60), state="done")
        )
    page = admin_client.get("/admin/").get_data(as_text=True)
    assert "Nothing has gone out in the last 30 days." in page
