"""The import's preview and result, in words a person reads: the new organisation
types it would add said above the choices, a near-miss guessed as the existing type,
the result as a sentence, the left-out columns in sentence case."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select

from contacts.models import OrganisationType
from mailer.database import Database
from tests.contacts.import_helpers import apply, preview_form, type_field, upload_id

HEADER = "email,name,organisation_type,Ward"


def _types(db: Database) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(OrganisationType)) or 0


def _type_id(db: Database, name: str) -> int:
    with db.transaction() as session:
        found = session.scalar(select(OrganisationType.id).where(OrganisationType.name == name))
    assert found is not None
    return found


def test_a_misspelt_type_is_guessed_and_new_ones_are_said_above_the_choices(
    admin_client: FlaskClient, db: Database
) -> None:
    data = (
        f"{HEADER}\r\n"
        "amina@example.org,Amina,Faith group,East\r\n"
        "ben@example.org,Ben,Housing association,West\r\n"
        "cara@example.org,Cara,Fire and rescue service,North\r\n"
    ).encode()
    upload = upload_id(admin_client, data)
    page = admin_client.get(f"/admin/contacts/import/{upload}").get_data(as_text=True)
    fields = preview_form(page)
    fire = _type_id(db, "Fire and rescue")
    assert fields[type_field(page, "Fire and rescue service")] == f"use:{fire}"
    assert fields[type_field(page, "Faith group")] == "create"
    said = (
        "These types will be added to your organisation types: Faith group, "
        "Housing association</strong> (change below)."
    )
    assert said in page
    # Said above the choices, inside their section.
    assert page.index("types-heading") < page.index(said) < page.index('name="type-0"')
    assert "Columns left out: Ward" in page and "columns ignored" not in page
    before = _types(db)
    done = apply(admin_client, upload)
    assert done.status_code == 200
    assert _types(db) == before + 2  # the misspelling did not become a type


def test_the_result_is_a_sentence(admin_client: FlaskClient, db: Database) -> None:
    data = (
        f"{HEADER}\r\n"
        "amina@example.org,Amina,,\r\n"
        "ben@example.org,Ben,,\r\n"
        "cara@example.org,Cara,,\r\n"
        "not an address,Dan,,\r\n"
    ).encode()
    upload = upload_id(admin_client, data, "imp.csv")
    done = apply(admin_client, upload).get_data(as_text=True)
    assert "Imported imp.csv: 3 people added, none updated, 1 row rejected." in done
    assert "added=" not in done
