"""The managed organisation types: the admin page and what imports make of its changes."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from contacts.models import SEEDED_ORGANISATION_TYPES, Contact, OrganisationType
from mailer.accounts import roles
from mailer.audit.models import AuditEntry
from mailer.database import Database
from tests.conftest import add_user, csrf_from, login
from tests.contacts.test_importing import HEADER, run_import

PAGE = "/admin/organisation-types/"


def names(db: Database) -> list[str]:
    with db.transaction() as session:
        return list(
            session.scalars(
                select(OrganisationType.name).order_by(
                    OrganisationType.position, OrganisationType.name
                )
            )
        )


def type_id(db: Database, name: str) -> int:
    with db.transaction() as session:
        found = session.scalar(select(OrganisationType.id).where(OrganisationType.name == name))
    assert found is not None, name
    return found


def post(client: FlaskClient, path: str, **data: str):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get(PAGE).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def test_page_lists_the_seeded_types_with_contact_counts(
    admin_client: FlaskClient, db: Database
) -> None:
    run_import(db, f"{HEADER}\na@example.org,A,Council,Local authority,,,\n")
    page = admin_client.get(PAGE).get_data(as_text=True)
    for name in SEEDED_ORGANISATION_TYPES:
        assert name.replace("'", "&#39;") in page
    # The one type in use links to its contacts.
    assert f'href="/admin/contacts/?type={type_id(db, "Local authority")}"' in page


def test_add_a_type_then_import_uses_it(admin_client: FlaskClient, db: Database) -> None:
    response = post(admin_client, PAGE, name="  Housing  association ")
    assert response.status_code == 302
    assert names(db)[-1] == "Housing association"
    report = run_import(db, f"{HEADER}\nh@example.org,H,Homes,HOUSING ASSOCIATION,,,\n")
    assert report.added == 1 and report.rejected == 0


def test_names_that_clash_or_are_empty_are_refused_with_a_reason(
    admin_client: FlaskClient, db: Database
) -> None:
    for name, message in [
        ("health", "There is already an organisation type &#39;Health&#39;."),
        ("Victims\u2019 service", "There is already an organisation type"),
        ("   ", "Give the organisation type a name."),
        ("x" * 121, "at most 120 characters"),
    ]:
        response = post(admin_client, PAGE, name=name)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert names(db) == list(SEEDED_ORGANISATION_TYPES)


def test_rename_keeps_contacts_and_changes_what_a_csv_must_say(
    admin_client: FlaskClient, db: Database
) -> None:
    run_import(db, f"{HEADER}\na@example.org,A,Trust,Health,,,\n")
    health = type_id(db, "Health")
    response = post(admin_client, f"{PAGE}{health}/rename", name="Health and care")
    assert response.status_code == 302
    with db.transaction() as session:
        contact = session.scalars(select(Contact)).one()
        assert contact.organisation_type is not None
        assert contact.organisation_type.name == "Health and care"
    report = run_import(db, f"{HEADER}\nb@example.org,B,Trust,Health,,,\n")
    assert report.rejected == 1 and "unknown organisation type 'Health'" in (
        report.rejections[0].reason
    )
    clash = post(admin_client, f"{PAGE}{health}/rename", name="business")
    assert clash.status_code == 400


def test_move_up_and_down_reorders_and_stops_at_the_ends(
    admin_client: FlaskClient, db: Database
) -> None:
    first, second = SEEDED_ORGANISATION_TYPES[:2]
    post(admin_client, f"{PAGE}{type_id(db, second)}/move", direction="up")
    assert names(db)[:2] == [second, first]
    post(admin_client, f"{PAGE}{type_id(db, second)}/move", direction="up")  # already first
    assert names(db)[:2] == [second, first]
    last = SEEDED_ORGANISATION_TYPES[-1]
    post(admin_client, f"{PAGE}{type_id(db, last)}/move", direction="down")
    assert names(db)[-1] == last
    post(admin_client, f"{PAGE}{type_id(db, last)}/move", direction="sideways")
    assert names(db)[-1] == last


def test_remove_moves_its_contacts_and_is_audited(admin_client: FlaskClient, db: Database) -> None:
    run_import(
        db,
        f"{HEADER}\na@example.org,A,Shop,Business,,,\nb@example.org,B,Cafe,Business,,,\n",
    )
    business, voluntary = type_id(db, "Business"), type_id(db, "Voluntary and community group")
    response = post(admin_client, f"{PAGE}{business}/remove", move_to=str(voluntary))
    assert response.status_code == 302
    assert "Business" not in names(db)
    with db.transaction() as session:
        assert {c.organisation_type_id for c in session.scalars(select(Contact))} == {voluntary}
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "organisation_type.removed")
        ).one()
        assert "2 contact(s) moved to 'Voluntary and community group'" in entry.summary
    # To no type at all.
    post(admin_client, f"{PAGE}{voluntary}/remove", move_to="")
    with db.transaction() as session:
        assert {c.organisation_type_id for c in session.scalars(select(Contact))} == {None}
        assert session.scalar(select(Contact).where(Contact.email_key == "a@example.org"))


def test_remove_onto_a_vanished_type_changes_nothing(
    admin_client: FlaskClient, db: Database
) -> None:
    run_import(db, f"{HEADER}\na@example.org,A,Shop,Business,,,\n")
    business = type_id(db, "Business")
    response = post(admin_client, f"{PAGE}{business}/remove", move_to="999999")
    assert response.status_code == 400
    assert "no longer exists" in response.get_data(as_text=True)
    assert "Business" in names(db)


def test_editors_change_types_but_only_admins_remove_them(
    app: Flask, client: FlaskClient, db: Database
) -> None:
    add_user(db, email="editor@example.org", role=roles.EDITOR)
    login(client, "editor@example.org")
    page = client.get(PAGE).get_data(as_text=True)
    assert "Rename" in page and "/remove" not in page
    assert post(client, PAGE, name="Faith group").status_code == 302
    health = type_id(db, "Health")
    assert post(client, f"{PAGE}{health}/remove").status_code == 403
    assert "Health" in names(db)

    add_user(db, email="approver@example.org", role=roles.APPROVER)
    client = app.test_client()
    login(client, "approver@example.org")
    page = client.get(PAGE).get_data(as_text=True)
    assert "Faith group" in page and "Rename" not in page
    assert post(client, PAGE, name="Another").status_code == 403
