"""A refused contact edit or new list shows the form again as typed, the reason beside
it, rather than an empty form (or a message at the top of another page)."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from contacts.models import Contact, ContactList
from mailer.database import Database
from tests.contacts.admin_views.test_contacts import token
from tests.contacts.test_importing import HEADER, run_import


def test_a_refused_contact_edit_keeps_what_was_typed(
    admin_client: FlaskClient, db: Database
) -> None:
    run_import(db, f"{HEADER}\nalice@example.org,Alice,Council,Health,,,a\n")
    with db.transaction() as session:
        contact_id = session.scalar(select(Contact.id))
    response = admin_client.post(
        f"/admin/contacts/{contact_id}",
        data={
            "csrf_token": token(admin_client, f"/admin/contacts/{contact_id}"),
            "email": "alice-at-example",
            "name": "Alice Typed-Anew",
            "organisation": "County Council",
            "lawful_basis": "legitimate interests",
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "not a valid email address" in page
    assert 'value="alice-at-example"' in page and 'value="Alice Typed-Anew"' in page
    assert 'value="County Council"' in page and 'data-unsaved="true"' in page
    with db.transaction() as session:
        assert session.get(Contact, contact_id).name == "Alice"


def test_a_refused_list_keeps_its_description(admin_client: FlaskClient, db: Database) -> None:
    response = admin_client.post(
        "/admin/lists/",
        data={
            "csrf_token": token(admin_client, "/admin/lists/"),
            "name": "",
            "description": "For the panel and its officers",
            "choosable": "yes",
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert ">For the panel and its officers</textarea>" in page
    assert 'name="choosable" value="yes" checked' in page
    assert '<a href="#name">' in page
    with db.transaction() as session:
        assert session.scalar(select(ContactList).limit(1)) is None
