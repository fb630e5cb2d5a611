"""A contact's page says which messages bounced (with the server's words and when),
which the relay refused, and that they marked one as spam."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from contacts.models import Contact
from mailer.accounts.models import User
from mailer.bounces.models import COMPLAINT
from mailer.database import Database
from tests.bounces.pages_helpers import bounce_back, refuse, sent_send
from tests.delivery.helpers import START


def contact_page(client: FlaskClient, db: Database, address: str) -> str:
    with db.transaction() as session:
        contact_id = session.scalar(select(Contact.id).where(Contact.email == address))
    return client.get(f"/admin/contacts/{contact_id}").get_data(as_text=True)


def test_the_history_shows_bounces_refusals_and_complaints(
    admin_client: FlaskClient, db: Database, admin_user: User
) -> None:
    addresses = ["gone@example.org", "angry@example.org", "typo@example.org"]
    send_id = sent_send(db, addresses=addresses, author=admin_user)
    bounce_back(db, send_id=send_id, address=addresses[0], now=START + timedelta(hours=1))
    bounce_back(
        db, send_id=send_id, address=addresses[1], now=START + timedelta(hours=2), kind=COMPLAINT
    )
    refuse(db, send_id=send_id, address=addresses[2], reply="550 5.1.1 no such user")

    gone = contact_page(admin_client, db, addresses[0])
    # The plain reason first; the server's words after it, without the codes repeated.
    assert "<strong>Bounced</strong>: The address does not exist (" in gone
    assert '<span class="small muted">5.1.1: user unknown</span>' in gone
    assert "5.1.1 smtp; 550" not in gone
    assert "sent <span" not in gone
    angry = contact_page(admin_client, db, addresses[1])
    assert "sent <span" in angry and "<strong>Marked it as spam</strong>" in angry
    typo = contact_page(admin_client, db, addresses[2])
    assert "<strong>Refused by the relay</strong>: The address does not exist" in typo
    assert '<span class="small muted">no such user</span>' in typo
