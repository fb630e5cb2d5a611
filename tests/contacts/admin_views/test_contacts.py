from __future__ import annotations

import json

from flask.testing import FlaskClient
from sqlalchemy import func, select

from contacts.models import Contact, ContactList, ListMembership, Suppression
from mailer.accounts import roles
from mailer.database import Database
from tests.conftest import add_user, csrf_from, login
from tests.contacts.import_helpers import apply, upload, upload_id
from tests.contacts.test_importing import HEADER, run_import

MESSY = (
    f"{HEADER}\nalice@example.org,Alice,Council,Local authority,,North,panel\n"
    "bad-address,,,,,,\nbob@example.org,Bob,Victim Support,,,,\n"
)


def token(client: FlaskClient, path: str = "/admin/contacts/") -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


def count(db: Database, model) -> int:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_import_preview_changes_nothing_until_confirmed(
    admin_client: FlaskClient, db: Database
) -> None:
    upload = upload_id(admin_client, MESSY.encode(), "partners.csv", new_list="Partners")
    preview = admin_client.get(f"/admin/contacts/import/{upload}")
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Check before importing partners.csv" in page
    assert "bad-address" in page and "An email address must have an @-sign" in page
    assert "Import 2 people" in page
    assert count(db, Contact) == 0 and count(db, ContactList) == 0

    done = apply(admin_client, upload)
    assert done.status_code == 200
    assert "Imported partners.csv" in done.get_data(as_text=True)
    assert count(db, Contact) == 2 and count(db, ListMembership) == 2
    # The stored upload is applied; confirming again is refused politely.
    again = admin_client.post(
        f"/admin/contacts/import/{upload}",
        data={"csrf_token": csrf_from(page), "action": "apply", "column-0": "email"},
    )
    assert again.status_code == 302
    assert admin_client.get("/admin/contacts/import/..%2F..%2Fetc%2Fpasswd").status_code in (
        302,
        404,
    )


def test_unusable_upload_is_explained(admin_client: FlaskClient) -> None:
    response = upload(admin_client, b"")
    assert response.status_code == 400
    assert "the file is empty" in response.get_data(as_text=True)
    # No column called email: the preview asks which column holds the addresses.
    upload_id_ = upload_id(admin_client, b"name\nAlice\n")
    page = admin_client.get(f"/admin/contacts/import/{upload_id_}").get_data(as_text=True)
    assert "Choose the column that holds the email addresses." in page


def test_search_and_filters(admin_client: FlaskClient, db: Database) -> None:
    run_import(db, MESSY, lists=["Partners"])
    run_import(db, f"{HEADER}\ncarol@example.org,Carol,100% Fire,Fire and rescue,,,\n")
    with db.transaction() as session:
        partners = session.scalar(select(ContactList.id))

    def emails(query: str) -> list[str]:
        page = admin_client.get(f"/admin/contacts/?{query}").get_data(as_text=True)
        return [e for e in ("alice@", "bob@", "carol@") if e in page]

    assert emails("") == ["alice@", "bob@", "carol@"]
    assert emails("q=victim") == ["bob@"]
    assert emails("q=100%25") == ["carol@"]  # % is matched literally
    assert emails(f"list={partners}") == ["alice@", "bob@"]
    assert emails("tag=panel") == ["alice@"]
    assert emails("tag=pan") == []  # whole tags only
    assert emails("status=unsubscribed") == []


def test_editing_a_contact_and_its_lists(admin_client: FlaskClient, db: Database) -> None:
    run_import(db, MESSY, lists=["Partners"])
    with db.transaction() as session:
        alice = session.scalar(select(Contact).where(Contact.email_key == "alice@example.org"))
        alice_id = alice.id
    csrf = token(admin_client, f"/admin/contacts/{alice_id}")
    response = admin_client.post(
        f"/admin/contacts/{alice_id}",
        data={
            "csrf_token": csrf,
            "email": "alice@example.org",
            "name": "Alice\r\nBcc: x@example.net",
            "organisation": "Northshire Council",
            "role": "CEO",
            "area": "North",
            "tags": "a; b",
            "lawful_basis": "public task",
        },
    )
    assert response.status_code == 302
    with db.transaction() as session:
        alice = session.get(Contact, alice_id)
        assert alice.name == "Alice Bcc: x@example.net" and alice.tags == "a;b"
    clash = admin_client.post(
        f"/admin/contacts/{alice_id}",
        data={"csrf_token": csrf, "email": "BOB@example.org", "lawful_basis": "public task"},
        follow_redirects=True,
    )
    assert "BOB@example.org is already a contact" in clash.get_data(as_text=True)
    page = admin_client.get(f"/admin/contacts/{alice_id}").get_data(as_text=True)
    assert "Partners" in page and "Contact #" in page  # the edit is in its history


def test_editors_cannot_erase_or_lift_suppressions(client: FlaskClient, db: Database) -> None:
    run_import(db, MESSY)
    add_user(db, email="ed@example.org", role=roles.EDITOR)
    login(client, "ed@example.org")
    with db.transaction() as session:
        alice_id = session.scalar(
            select(Contact.id).where(Contact.email_key == "alice@example.org")
        )
    csrf = token(client)
    assert (
        client.post(
            f"/admin/contacts/{alice_id}/erase",
            data={"csrf_token": csrf, "confirm": "alice@example.org"},
        ).status_code
        == 403
    )
    assert client.get(f"/admin/contacts/{alice_id}/data.json").status_code == 403
    assert client.post("/admin/suppressions/1/remove", data={"csrf_token": csrf}).status_code == 403
    assert count(db, Contact) == 2


def test_erasure_needs_the_address_typed(admin_client: FlaskClient, db: Database) -> None:
    run_import(db, MESSY)
    with db.transaction() as session:
        alice_id = session.scalar(
            select(Contact.id).where(Contact.email_key == "alice@example.org")
        )
    csrf = token(admin_client, f"/admin/contacts/{alice_id}")
    data = admin_client.get(f"/admin/contacts/{alice_id}/data.json")
    assert json.loads(data.get_data())["email"] == "alice@example.org"
    admin_client.post(
        f"/admin/contacts/{alice_id}/erase", data={"csrf_token": csrf, "confirm": "yes"}
    )
    assert count(db, Contact) == 2
    response = admin_client.post(
        f"/admin/contacts/{alice_id}/erase",
        data={"csrf_token": csrf, "confirm": "Alice@Example.org "},
        follow_redirects=True,
    )
    assert f"Contact #{alice_id} was erased" in response.get_data(as_text=True)
    assert count(db, Contact) == 1
    page = admin_client.get("/admin/suppressions/").get_data(as_text=True)
    assert "erased (hash only)" in page and "alice@example.org" not in page
    # The page offers no "Remove" for an erased address, and a forged post is refused.
    with db.transaction() as session:
        entry_id = session.scalar(select(Suppression.id).where(Suppression.reason == "erased"))
    refused = admin_client.post(
        f"/admin/suppressions/{entry_id}/remove",
        data={"csrf_token": token(admin_client, "/admin/suppressions/")},
        follow_redirects=True,
    )
    assert "was erased on request; its suppression stays" in refused.get_data(as_text=True)
    assert count(db, Suppression) == 1


def test_export_csv_download(admin_client: FlaskClient, db: Database) -> None:
    run_import(db, MESSY, lists=["Partners"])
    response = admin_client.get("/admin/contacts/export.csv")
    assert response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0].startswith("email,name") and len(lines) == 3
    with db.transaction() as session:
        partners = session.scalar(select(ContactList.id))
    listed = admin_client.get(f"/admin/contacts/export.csv?list={partners}")
    assert "contacts-partners.csv" in listed.headers["Content-Disposition"]
    assert admin_client.get("/admin/contacts/export.csv?list=999").status_code == 404


def test_manual_add_refuses_suppressed_and_invalid(admin_client: FlaskClient, db: Database) -> None:
    csrf = token(admin_client, "/admin/contacts/new")
    ok = admin_client.post(
        "/admin/contacts/new",
        data={
            "csrf_token": csrf,
            "email": "new@example.org",
            "name": "New",
            "lawful_basis": "consent",
        },
    )
    assert ok.status_code == 302
    bad = admin_client.post(
        "/admin/contacts/new", data={"csrf_token": csrf, "email": "nope", "lawful_basis": "consent"}
    )
    assert bad.status_code == 400 and "is not a valid email address" in bad.get_data(as_text=True)
    run_import(db, f"{HEADER}\ngone@example.org,,,,,,\n")
    with db.transaction() as session:
        from contacts import data_rights
        from mailer.accounts.models import User

        gone = session.scalar(select(Contact).where(Contact.email_key == "gone@example.org"))
        data_rights.erase(session, gone, by=session.scalar(select(User)), scrubbers=())
    refused = admin_client.post(
        "/admin/contacts/new",
        data={"csrf_token": csrf, "email": "gone@example.org", "lawful_basis": "consent"},
    )
    assert "is on the suppression list" in refused.get_data(as_text=True)


def test_forged_organisation_type_and_long_list_names_are_explained(
    admin_client: FlaskClient, db: Database
) -> None:
    csrf = token(admin_client, "/admin/contacts/new")
    forged = admin_client.post(
        "/admin/contacts/new",
        data={
            "csrf_token": csrf,
            "email": "new@example.org",
            "lawful_basis": "consent",
            "organisation_type_id": "999999",
        },
    )
    assert forged.status_code == 400
    assert "That organisation type does not exist" in forged.get_data(as_text=True)
    assert count(db, Contact) == 0
    long_name = admin_client.post("/admin/lists/", data={"csrf_token": csrf, "name": "L" * 121})
    assert long_name.status_code == 400
    assert "at most 120 characters" in long_name.get_data(as_text=True)
    assert count(db, ContactList) == 0
