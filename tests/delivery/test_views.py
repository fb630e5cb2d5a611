"""The admin's view of delivery: a running send's progress and controls, failures as
CSV, and the outbox read like a mail catcher."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from contacts.models import Contact
from mailer.accounts.models import User
from mailer.audit import actions
from mailer.audit.models import AuditEntry
from mailer.database import Database, utcnow
from mailer.delivery import pool
from mailer.delivery.models import FAILED, Delivery, Send
from tests.conftest import csrf_from
from tests.delivery.helpers import make_send

ADDRESSES = [f"p{n}@example.org" for n in range(4)]


def post(client: FlaskClient, path: str, page: str) -> str:
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token}, follow_redirects=True).get_data(
        as_text=True
    )


def test_progress_controls_and_failures(
    admin_client: FlaskClient, db: Database, admin_user: User
) -> None:
    send_id = make_send(db, addresses=ADDRESSES, author=admin_user)
    page = f"/admin/sends/{send_id}"
    assert "Stakeholder Special: news" in admin_client.get("/admin/sends/").get_data(as_text=True)
    status = admin_client.get(f"{page}/status.json").get_json()
    assert (status["state"], status["queued"], status["total"]) == ("sending", 4, 4)

    assert "Paused." in post(admin_client, f"{page}/pause", page)
    assert (
        admin_client.get(f"{page}/status.json").get_json()["paused_reason"].startswith("Paused by")
    )
    assert "Only a paused send can be resumed" not in post(admin_client, f"{page}/resume", page)
    assert "Only a paused send can be resumed" in post(admin_client, f"{page}/resume", page)

    with db.transaction() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.address == ADDRESSES[0])
            .values(state=FAILED, last_reply='=HYPERLINK("x") 550 refused', attempts=1)
        )
    shown = admin_client.get(page).get_data(as_text=True)
    assert "550 refused" in shown and ADDRESSES[0] in shown
    csv_text = admin_client.get(f"{page}/failures.csv").get_data(as_text=True)
    assert csv_text.splitlines()[1].startswith(f"{ADDRESSES[0]},1,\"'=HYPERLINK")

    assert "1 failed deliveries queued again" in post(admin_client, f"{page}/retry", page)
    assert "Cancelled: 4 waiting messages" in post(admin_client, f"{page}/cancel", page)
    with db.transaction() as session:
        assert session.get(Send, send_id).state == "cancelled"
        done = session.scalars(
            select(AuditEntry.action).where(AuditEntry.target_type == "send")
        ).all()
    assert done == [
        actions.SEND_PAUSED,
        actions.SEND_RESUMED,
        actions.SEND_RETRIED,
        actions.SEND_CANCELLED,
    ]


def test_the_outbox_shows_what_would_have_gone_out(
    admin_client: FlaskClient, db: Database, admin_user: User, app: Flask
) -> None:
    assert "The outbox is empty" in admin_client.get("/admin/outbox/").get_data(as_text=True)
    make_send(db, addresses=ADDRESSES[:2], author=admin_user, now=utcnow())
    assert pool.run_once(app.extensions["mailer.db"], app.config["MAILER"]) == 2

    listing = admin_client.get("/admin/outbox/").get_data(as_text=True)
    assert "2 messages, newest first" in listing
    name = re.search(r'href="/admin/outbox/(\d{8}T\d{6}-[0-9a-f]{12}\.eml)"', listing).group(1)
    shown = admin_client.get(f"/admin/outbox/{name}").get_data(as_text=True)
    assert "Stakeholder Special: news" in shown and "/u/" in shown
    frame = admin_client.get(f"/admin/outbox/{name}/frame.html")
    assert "sandbox" in frame.headers["Content-Security-Policy"]
    assert "Hello" in frame.get_data(as_text=True)
    text = admin_client.get(f"/admin/outbox/{name}?view=text").get_data(as_text=True)
    assert "Dear Person" in text
    raw = admin_client.get(f"/admin/outbox/{name}/download")
    assert raw.mimetype == "message/rfc822" and b"\r\nList-Unsubscribe-Post: " in raw.data
    # Only names the outbox makes can be opened.
    for bad in ("..%2Fconfig.toml", "secret_key", "20270101T000000-zzzzzzzzzzzz.eml"):
        assert admin_client.get(f"/admin/outbox/{bad}").status_code == 404


def test_a_contacts_page_lists_what_was_sent_to_them(
    admin_client: FlaskClient, db: Database, admin_user: User, app: Flask
) -> None:
    make_send(db, addresses=ADDRESSES[:2], author=admin_user, now=utcnow())
    pool.run_once(app.extensions["mailer.db"], app.config["MAILER"])
    with db.transaction() as session:
        contact_id = session.scalar(
            select(Delivery.contact_id).where(Delivery.address == ADDRESSES[0])
        )
    page = admin_client.get(f"/admin/contacts/{contact_id}").get_data(as_text=True)
    assert "Stakeholder Special: news</a>:" in page and "sent" in page
    make_send(db, addresses=["new@example.org"], author=admin_user, due=False)
    with db.transaction() as session:
        new_id = session.scalar(select(Contact.id).where(Contact.email == "new@example.org"))
    page = admin_client.get(f"/admin/contacts/{new_id}").get_data(as_text=True)
    assert "Nothing has been sent to this contact yet." in page  # its send is not due
