"""The admin's import keeps people: unknown organisation types and columns are chosen
for in the preview, which lists who is added, updated and rejected, a page at a time;
the rejected rows download to fix; an upload is its uploader's alone."""

from __future__ import annotations

import csv
import io

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from contacts.models import Contact, OrganisationType
from mailer.accounts import roles
from mailer.audit.models import AuditEntry
from mailer.database import Database
from tests.conftest import add_user, login
from tests.contacts.import_helpers import (
    apply,
    choose,
    column_field,
    preview_form,
    type_field,
    upload,
    upload_id,
)
from tests.contacts.test_importing import HEADER, run_import

# A council's spreadsheet: a type the office has not set up, and columns of its own.
PARTNERS = (
    "E-mail address,Full name,Organisation name,Organisation type,Job title,Ward\r\n"
    "amina@example.org,Amina Khan,St Mary's,Faith group,Vicar,Eastfield\r\n"
    "ben@example.org,Ben Ode,Riverside Homes,Housing association,Director,Westgate\r\n"
    "cara@example.org,Cara Lee,Central Mosque,Faith group,Trustee,Eastfield\r\n"
    "dan@example.org,Dan Roe,Northshire Council,Local authority,Officer,Northgate\r\n"
)


def people(db: Database) -> dict[str, Contact]:
    with db.transaction() as session:
        return {c.email_key: c for c in session.scalars(select(Contact))}


def count(db: Database, model) -> int:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_unknown_types_and_custom_columns_keep_every_person(
    admin_client: FlaskClient, db: Database
) -> None:
    upload = upload_id(admin_client, PARTNERS.encode(), "partners.csv")
    page = admin_client.get(f"/admin/contacts/import/{upload}").get_data(as_text=True)
    assert "Check before importing partners.csv" in page
    # Each unknown type is listed with its rows; the synonyms are guessed.
    assert "“Faith group”" in page and "2 rows" in page
    assert "“Housing association”" in page and "1 row<" in page
    fields = preview_form(page)
    assert fields[column_field(page, "E-mail address")] == "email"
    assert fields[column_field(page, "Job title")] == "role"
    assert fields[column_field(page, "Ward")] == ""  # not recognised: left out
    assert "Not recognised: left out" in page and "Your choice" not in page

    with db.transaction() as session:
        council = session.scalar(
            select(OrganisationType).where(OrganisationType.name == "Local authority")
        )
        council_id = council.id
    faith, housing = type_field(page, "Faith group"), type_field(page, "Housing association")
    chosen = choose(
        admin_client,
        upload,
        {faith: "create", housing: f"use:{council_id}", column_field(page, "Ward"): "area"},
    )
    assert chosen.status_code == 302
    assert count(db, Contact) == 0  # still only a preview
    page = admin_client.get(f"/admin/contacts/import/{upload}").get_data(as_text=True)
    assert (
        "This type will be added to your organisation types: Faith group</strong> (change below)"
        in page
    )
    assert "Import 4 people" in page

    done = apply(admin_client, upload)
    assert done.status_code == 200, done.get_data(as_text=True)
    assert "Imported partners.csv" in done.get_data(as_text=True)
    stored = people(db)
    assert set(stored) == {
        "amina@example.org",
        "ben@example.org",
        "cara@example.org",
        "dan@example.org",
    }
    amina = stored["amina@example.org"]
    assert amina.name == "Amina Khan" and amina.organisation == "St Mary's"
    assert amina.role == "Vicar" and amina.area == "Eastfield"
    assert amina.organisation_type.name == "Faith group"
    assert stored["cara@example.org"].organisation_type_id == amina.organisation_type_id
    assert stored["ben@example.org"].organisation_type_id == council_id
    with db.transaction() as session:
        added = session.scalars(
            select(AuditEntry.summary).where(AuditEntry.action == "organisation_type.added")
        ).all()
    assert any("Faith group" in summary for summary in added)

    # The same file again: nobody added twice, no type made twice, nothing changes.
    again = upload_id(admin_client, PARTNERS.encode(), "partners.csv")
    page = admin_client.get(f"/admin/contacts/import/{again}").get_data(as_text=True)
    housing = type_field(page, "Housing association")
    choose(admin_client, again, {housing: f"use:{council_id}", column_field(page, "Ward"): "area"})
    page = admin_client.get(f"/admin/contacts/import/{again}").get_data(as_text=True)
    assert "Import 0 people" in page and "“Faith group”" not in page
    with db.transaction() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(OrganisationType)
                .where(OrganisationType.name == "Faith group")
            )
            == 1
        )
    assert count(db, Contact) == 4


def test_leave_blank_and_reject_are_the_writers_choice(
    admin_client: FlaskClient, db: Database
) -> None:
    upload = upload_id(admin_client, PARTNERS.encode())
    page = admin_client.get(f"/admin/contacts/import/{upload}").get_data(as_text=True)
    faith, housing = type_field(page, "Faith group"), type_field(page, "Housing association")
    choose(admin_client, upload, {faith: "blank", housing: "reject"})
    page = admin_client.get(f"/admin/contacts/import/{upload}").get_data(as_text=True)
    assert "Import 3 people" in page
    assert "unknown organisation type &#39;Housing association&#39;" in page
    apply(admin_client, upload)
    stored = people(db)
    assert "ben@example.org" not in stored
    assert stored["amina@example.org"].organisation_type_id is None
    assert count(db, OrganisationType) == count(db, OrganisationType)  # nothing made
    with db.transaction() as session:
        assert (
            session.scalar(select(OrganisationType).where(OrganisationType.name == "Faith group"))
            is None
        )


def test_a_near_miss_is_guessed_as_the_existing_type(
    admin_client: FlaskClient, db: Database
) -> None:
    data = f"{HEADER}\nalice@example.org,Alice,,Local authorty,,,\n".encode()
    upload = upload_id(admin_client, data)
    page = admin_client.get(f"/admin/contacts/import/{upload}").get_data(as_text=True)
    with db.transaction() as session:
        council_id = session.scalar(
            select(OrganisationType.id).where(OrganisationType.name == "Local authority")
        )
    assert preview_form(page)[type_field(page, "Local authorty")] == f"use:{council_id}"
    apply(admin_client, upload)
    assert people(db)["alice@example.org"].organisation_type.name == "Local authority"


def test_a_clash_with_another_import_rolls_back_and_keeps_the_upload(
    admin_client: FlaskClient, db: Database, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import IntegrityError

    from contacts.admin_views import importing as views

    upload = upload_id(admin_client, PARTNERS.encode())
    real = views.import_contacts

    def clash(*args, **kwargs):  # type: ignore[no-untyped-def]
        report = real(*args, **kwargs)
        if kwargs.get("dry_run"):
            return report
        # Written, then the other import's rows are met (as a commit would meet them).
        raise IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))

    monkeypatch.setattr(views, "import_contacts", clash)
    response = apply(admin_client, upload)
    assert response.status_code == 302
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Someone else changed some of these contacts at the same moment" in page
    assert count(db, Contact) == 0  # all or nothing
    monkeypatch.setattr(views, "import_contacts", real)
    assert apply(admin_client, upload).status_code == 200
    assert count(db, Contact) == 4


def test_changing_a_choice_and_importing_at_once_shows_the_preview_again(
    admin_client: FlaskClient, db: Database
) -> None:
    upload = upload_id(admin_client, PARTNERS.encode())
    page = admin_client.get(f"/admin/contacts/import/{upload}").get_data(as_text=True)
    response = choose(
        admin_client, upload, {type_field(page, "Faith group"): "reject"}, action="apply"
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(upload)
    assert count(db, Contact) == 0
    page = admin_client.get(f"/admin/contacts/import/{upload}").get_data(as_text=True)
    assert "Your choices changed what the import would do" in page
    assert "Import 2 people" in page  # the two Faith group rows now rejected


def test_the_preview_lists_who_a_page_at_a_time(admin_client: FlaskClient, db: Database) -> None:
    run_import(db, f"{HEADER}\nknown0@example.org,Old,,,,,\nknown1@example.org,Same,,,,,\n")
    rows = [f"new{i:03}@example.org,Person {i:03},Org {i},,,," for i in range(120)]
    rows += ["known0@example.org,New Name,,,,,", "known1@example.org,Same,,,,,", "nope,,,,,,"]
    upload = upload_id(admin_client, (f"{HEADER}\n" + "\n".join(rows) + "\n").encode())
    base = f"/admin/contacts/import/{upload}"
    first = admin_client.get(base).get_data(as_text=True)
    # It opens on the rejected rows, with the reason.
    assert "Rejected (1)" in first and "New (120)" in first and "Updated (1)" in first
    assert "nope" in first and "@-sign" in first
    new = admin_client.get(f"{base}?show=added").get_data(as_text=True)
    assert "new000@example.org" in new and "Person 000, Org 0" in new
    assert "new049@example.org" in new and "new050@example.org" not in new
    assert "Page 1 of 3" in new
    third = admin_client.get(f"{base}?show=added&page=3").get_data(as_text=True)
    assert "new100@example.org" in third and "new119@example.org" in third
    assert "new099@example.org" not in third
    far = admin_client.get(f"{base}?show=added&page=999999999999").get_data(as_text=True)
    assert "Page 3 of 3" in far
    updated = admin_client.get(f"{base}?show=updated").get_data(as_text=True)
    assert "known0@example.org" in updated and "name" in updated
    assert "known1@example.org" not in updated
    assert admin_client.get(f"{base}?show=added&page=-1").status_code == 400
    assert admin_client.get(f"{base}?show=nonsense").status_code == 200


def test_rejected_rows_download_to_fix_and_import_again(
    admin_client: FlaskClient, db: Database
) -> None:
    data = (
        "email,name,Notes\n"
        "good@example.org,Good,fine\n"
        'bad-address,=HYPERLINK("http://evil.example"),+1 555\n'
        "good@example.org,Twice,@admin\n"
        ",No address,-minus\n"
    )
    upload = upload_id(admin_client, data.encode(), "Stakeholders 2026.csv")
    response = admin_client.get(f"/admin/contacts/import/{upload}/rejected.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "stakeholders-2026-rejected.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["email", "name", "Notes", "problem"]
    assert rows[1][:3] == ["bad-address", '\'=HYPERLINK("http://evil.example")', "'+1 555"]
    assert "@-sign" in rows[1][3]
    assert rows[2] == [
        "good@example.org",
        "Twice",
        "'@admin",
        "the same address as line 2 (that row is the one used)",
    ]
    assert rows[3] == ["", "No address", "'-minus", "no email address"]
    assert len(rows) == 4
    # After importing, the rejected rows can still be downloaded; the same form posted
    # twice (a double click, a second tab) imports once.
    base = f"/admin/contacts/import/{upload}"
    fields = {**preview_form(admin_client.get(base).get_data(as_text=True)), "action": "apply"}
    assert admin_client.post(base, data=fields).status_code == 200
    assert admin_client.get(f"{base}/rejected.csv").data == response.data
    twice = admin_client.post(base, data=fields, follow_redirects=True)
    assert "That file has already been imported." in twice.get_data(as_text=True)
    assert count(db, Contact) == 1
    # The fixed file goes back in: the neutralising apostrophe is taken off again.
    fixed = response.get_data().replace(b"bad-address", b"fixed@example.org")
    again = upload_id(admin_client, fixed)
    apply(admin_client, again)
    assert people(db)["fixed@example.org"].name == '=HYPERLINK("http://evil.example")'


def test_an_upload_is_its_uploaders_alone(
    admin_client: FlaskClient, client: FlaskClient, db: Database, app
) -> None:  # type: ignore[no-untyped-def]
    upload = upload_id(admin_client, PARTNERS.encode())
    add_user(db, email="other@example.org", role=roles.EDITOR)
    other = app.test_client()
    assert login(other, "other@example.org").status_code == 302
    base = f"/admin/contacts/import/{upload}"
    assert other.get(base).status_code == 404
    assert other.get(f"{base}/rejected.csv").status_code == 404
    csrf_page = other.get("/admin/contacts/import").get_data(as_text=True)
    from tests.conftest import csrf_from

    fields = preview_form(admin_client.get(base).get_data(as_text=True))
    fields["csrf_token"] = csrf_from(csrf_page)
    assert other.post(base, data={**fields, "action": "apply"}).status_code == 404
    assert count(db, Contact) == 0
    # A forged name is refused without a look at the disk.
    forged = admin_client.get("/admin/contacts/import/" + "0" * 32)
    assert forged.status_code == 302
    assert admin_client.get("/admin/contacts/import/..%2F..%2Fetc").status_code in (302, 404)
    # An approver may not import at all.
    add_user(db, email="approver@example.org", role=roles.APPROVER)
    approver = app.test_client()
    login(approver, "approver@example.org")
    assert approver.get(base).status_code == 403
    assert approver.get("/admin/contacts/import").status_code == 403
    # The owner still can.
    assert apply(admin_client, upload).status_code == 200
    assert count(db, Contact) == 4


def test_a_file_without_a_recognised_email_column_is_mapped_in_the_preview(
    admin_client: FlaskClient, db: Database
) -> None:
    upload = upload_id(admin_client, b"Correo,Nombre\nana@example.org,Ana\n")
    page = admin_client.get(f"/admin/contacts/import/{upload}").get_data(as_text=True)
    assert "Choose the column that holds the email addresses." in page
    choose(admin_client, upload, {"column-0": "email", "column-1": "name"})
    apply(admin_client, upload)
    assert people(db)["ana@example.org"].name == "Ana"
    # Two email columns, or a field that is not offered, are refused with a sentence.
    upload = upload_id(admin_client, b"email,name\nbo@example.org,Bo\n")
    twice = choose(admin_client, upload, {"column-1": "email"})
    assert twice.status_code == 302
    page = admin_client.get(f"/admin/contacts/import/{upload}").get_data(as_text=True)
    assert "Only one column can hold the email address" in page
    forged = choose(admin_client, upload, {"column-1": "password_hash"})
    assert forged.status_code == 302
    forged_type = choose(admin_client, upload, {"type-key-0": "x", "type-0": "drop table"})
    assert forged_type.status_code == 302
    assert "bo@example.org" not in people(db)


def test_messy_files_never_break_the_preview(admin_client: FlaskClient) -> None:
    messy = [
        b"",
        b"\n\n\n",
        b"\xff\xfe" + "email,name\r\nzo\u00eb@example.org,Zo\u00eb\r\n".encode("utf-16-le"),
        "\ufeffemail;name\r\n\r\nzoe@example.org;Zoë Brontë\r\n".encode(),
        "email,name\nzoe@example.org,Zoë Brontë\n".encode("cp1252"),
        b"\x00\x01\x02\x03binary\x00",
        b"PK\x03\x04 this is an xlsx",
        b'email,name\n"unterminated,quote\n',
        b"email,name\na@example.org,A,extra,cells\n",
        ("email\n" + "x" * 200_000 + "\n").encode(),
    ]
    for data in messy:
        response = upload(admin_client, data)
        assert response.status_code in (302, 400), data[:20]
        if response.status_code == 302:
            page = admin_client.get(response.headers["Location"])
            assert page.status_code in (200, 302, 400), data[:20]
            fields = preview_form(page.get_data(as_text=True))
            assert page.status_code != 500 and isinstance(fields, dict)


def test_ten_thousand_rows_preview_quickly(admin_client: FlaskClient, db: Database) -> None:
    rows = "".join(f"user{i}@example.org;User {i};Faith group\n" for i in range(10_000))
    upload = upload_id(admin_client, f"email;name;sector\n{rows}bad;;\n".encode())
    page = admin_client.get(f"/admin/contacts/import/{upload}?show=added&page=200")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "10000 rows" in text and "Import 10000 people" in text
    assert "Page 200 of 200" in text and "user9999@example.org" in text
    rejected = admin_client.get(f"/admin/contacts/import/{upload}/rejected.csv")
    assert rejected.get_data(as_text=True).splitlines()[1].startswith("bad,,,")


@pytest.mark.slow  # the import is quick; emptying the database after it is not
def test_ten_thousand_rows_apply(admin_client: FlaskClient, db: Database) -> None:
    rows = "".join(f"user{i}@example.org;User {i};Faith group\n" for i in range(10_000))
    upload = upload_id(admin_client, f"email;name;sector\n{rows}".encode())
    assert apply(admin_client, upload).status_code == 200
    assert count(db, Contact) == 10_000


def test_a_column_of_many_types_is_not_turned_into_types(
    admin_client: FlaskClient, db: Database
) -> None:
    rows = "".join(f"p{i}@example.org,Person {i},Street {i}\n" for i in range(60))
    types_before = count(db, OrganisationType)
    upload = upload_id(admin_client, f"email,name,sector\n{rows}".encode())
    page = admin_client.get(f"/admin/contacts/import/{upload}").get_data(as_text=True)
    assert "And 10 more, imported with no type." in page
    assert page.count('<option value="blank" selected>') == 50
    assert apply(admin_client, upload).status_code == 200
    assert count(db, Contact) == 60
    assert count(db, OrganisationType) == types_before
