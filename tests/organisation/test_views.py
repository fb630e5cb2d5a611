"""Organisation settings in the admin: checked strictly, saved whole, audited."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mailer.accounts import roles
from mailer.audit.models import AuditEntry
from mailer.database import Database
from mailer.organisation.models import OrganisationSettings
from mailer.organisation.service import contrast_with_white
from tests.conftest import add_user, csrf_from, login

PAGE = "/admin/organisation/"
GOOD = {
    "name": "Office of the Police and Crime Commissioner for Northshire",
    "colour": "#1D3A6E",
    "logo_url": "https://www.northshire-pcc.example.org/logo.png",
    "signatory": "Alex Morgan",
    "signatory_title": "Police and Crime Commissioner",
    "website": "https://www.northshire-pcc.example.org",
    "phone": "01632 960000",
    "email": "Contact@Northshire-PCC.example.org",
    "emergency": "999",
    "non_emergency": "101",
    "register_url": "",
    "postal_address": "1 Example Street,\r\nNorthshire NS1 1AA",
    "social": "Facebook https://facebook.example.org/npcc\r\n\r\nX (Twitter) https://x.example.org/npcc",
}


def settings(db: Database) -> OrganisationSettings:
    with db.transaction() as session:
        row = session.scalars(select(OrganisationSettings)).one()
        session.expunge(row)
        return row


def post(client: FlaskClient, **values: str):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get(PAGE).get_data(as_text=True))
    return client.post(PAGE, data={"csrf_token": token, **values})


def test_saving_settings_cleans_them_and_audits_what_changed(
    admin_client: FlaskClient, db: Database
) -> None:
    response = post(admin_client, **GOOD)
    assert response.status_code == 302
    saved = settings(db)
    assert saved.colour == "#1d3a6e"
    assert saved.email == "Contact@northshire-pcc.example.org"
    assert saved.postal_address == "1 Example Street, Northshire NS1 1AA"  # no line break
    assert saved.social == [
        {"name": "Facebook", "url": "https://facebook.example.org/npcc"},
        {"name": "X (Twitter)", "url": "https://x.example.org/npcc"},
    ]
    with db.transaction() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "organisation.settings_changed")
        ).one()
        assert "logo_url" in entry.summary and "social" in entry.summary
    page = admin_client.get(PAGE).get_data(as_text=True)
    assert "X (Twitter) https://x.example.org/npcc" in page


def test_bad_values_are_refused_with_reasons_and_nothing_is_saved(
    admin_client: FlaskClient, db: Database
) -> None:
    before = settings(db).snapshot()
    response = post(
        admin_client,
        **{
            **GOOD,
            "name": "",
            "colour": "#ffdd00",
            "logo_url": "javascript:alert(1)",
            "email": "not-an-address",
            "social": "Facebook",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Give the organisation&#39;s name" in page
    assert "White text on #ffdd00 has a contrast of only 1.3:1" in page
    assert "starting with https://" in page
    assert "must have an @-sign" in page
    assert "Line 1: write the account&#39;s name" in page
    assert 'value="javascript:alert(1)"' in page  # what was typed is kept for fixing
    assert settings(db).snapshot() == before


def test_contrast_matches_wcag() -> None:
    assert round(contrast_with_white("#000000"), 1) == 21.0
    assert round(contrast_with_white("#ffffff"), 1) == 1.0
    assert round(contrast_with_white("#1d3a6e"), 1) >= 4.5


def test_only_admins_change_settings(app: Flask, db: Database) -> None:
    add_user(db, email="editor@example.org", role=roles.EDITOR)
    client = app.test_client()
    login(client, "editor@example.org")
    assert client.get(PAGE).status_code == 403
