from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from contacts.models import ListMembership
from mailer.database import Database
from tests.contacts.admin_views.test_contacts import MESSY, count, token
from tests.contacts.test_importing import run_import


def test_lists_bulk_add_and_remove(admin_client: FlaskClient, db: Database) -> None:
    run_import(db, MESSY)
    csrf = token(admin_client, "/admin/lists/")
    created = admin_client.post(
        "/admin/lists/",
        data={"csrf_token": csrf, "name": "Panel members", "description": "", "choosable": "yes"},
    )
    list_id = int(created.headers["Location"].rstrip("/").split("/")[-1])
    added = admin_client.post(
        f"/admin/lists/{list_id}/members",
        data={
            "csrf_token": csrf,
            "action": "add",
            "addresses": "ALICE@example.org\nbob@example.org, nobody@example.org",
        },
        follow_redirects=True,
    )
    page = added.get_data(as_text=True)
    assert "Added 2 contact(s)" in page and "nobody@example.org" in page
    with db.transaction() as session:
        ids = list(session.scalars(select(ListMembership.contact_id)))
    admin_client.post(
        f"/admin/lists/{list_id}/members",
        data={"csrf_token": csrf, "action": "remove", "contact": [str(ids[0])]},
    )
    assert count(db, ListMembership) == 1
    listing = admin_client.get("/admin/lists/").get_data(as_text=True)
    assert "Panel members" in listing
    duplicate = admin_client.post(
        "/admin/lists/", data={"csrf_token": csrf, "name": "panel MEMBERS"}
    )
    assert duplicate.status_code == 400
