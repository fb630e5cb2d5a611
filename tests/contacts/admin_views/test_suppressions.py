from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from contacts.models import UNSUBSCRIBED, Contact, Suppression
from mailer.database import Database
from tests.contacts.admin_views.test_contacts import MESSY, count, token
from tests.contacts.test_importing import run_import


def test_suppression_list_and_removal_by_an_admin(admin_client: FlaskClient, db: Database) -> None:
    run_import(db, MESSY)
    with db.transaction() as session:
        alice_id = session.scalar(
            select(Contact.id).where(Contact.email_key == "alice@example.org")
        )
    csrf = token(admin_client, f"/admin/contacts/{alice_id}")
    admin_client.post(
        f"/admin/contacts/{alice_id}/suppress",
        data={"csrf_token": csrf, "reason": "asked by phone"},
    )
    with db.transaction() as session:
        assert session.get(Contact, alice_id).status == UNSUBSCRIBED
        entry_id = session.scalar(select(Suppression.id))
    page = admin_client.get("/admin/suppressions/").get_data(as_text=True)
    assert "alice@example.org" in page and "asked by phone" in page
    admin_client.post(f"/admin/suppressions/{entry_id}/remove", data={"csrf_token": csrf})
    with db.transaction() as session:
        assert session.get(Contact, alice_id).status == "active"
    assert count(db, Suppression) == 0
