"""Public pages wear the office's name, logo and colour, not the product's name, and
their Content-Security-Policy lets exactly that look in."""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask
from flask.testing import FlaskClient

from contacts import link_owner
from contacts.models import Contact, ContactList
from mailer.database import Database
from mailer.organisation.models import OrganisationSettings
from tests.conftest import TEST_SECRET

NAME = "Office of the Police and Crime Commissioner for Northshire"
LOGO = "https://www.northshire-pcc.example.org/img/logo.png"


def brand(db: Database, **values: str) -> None:
    with db.transaction() as session:
        org = session.get(OrganisationSettings, 1)
        assert org is not None
        for name, value in {"name": NAME, "colour": "#5b2a86", **values}.items():
            setattr(org, name, value)


def contact_tokens(db: Database) -> tuple[str, str]:
    with db.transaction() as session:
        contact = Contact(email="sam@example.org", email_key="sam@example.org", name="Sam")
        session.add_all([contact, ContactList(name="Community safety news", choosable=True)])
        session.flush()
        keys = [TEST_SECRET]
        return (
            link_owner.unsubscribe_token(contact, keys=keys),
            link_owner.preferences_token(contact, keys=keys),
        )


def check_look(client: FlaskClient, path: str, *, logo: bool = True) -> str:
    response = client.get(path)
    assert response.status_code in (200, 404), path
    page = response.get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    assert title and title.group(1).strip().endswith(f"· {NAME}"), (path, title)
    assert "Stakeholder Mailer" not in page, path
    assert '<span class="brand">' in page and f"{NAME}</span>" in page
    style = re.search(r"<style>(.*?)</style>", page, re.S)
    assert style and ":root{--brand:#5b2a86}.site-header{background:#5b2a86;color:#ffffff}" in (
        style.group(1)
    )
    # The policy allows that style block (by its hash) and the logo's origin: no more.
    policy = response.headers["Content-Security-Policy"]
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"style-src 'self' 'sha256-{digest}';" in policy
    assert "unsafe-inline" not in policy
    if logo:
        assert f'<img class="brand-logo" src="{LOGO}" alt="{NAME} logo">' in page
        assert "img-src 'self' data: https://www.northshire-pcc.example.org;" in policy
    return page


def test_every_public_page_shows_the_office(client: FlaskClient, db: Database) -> None:
    brand(db, logo_url=LOGO)
    unsubscribe, preferences = contact_tokens(db)
    for path in ("/subscribe", "/bulletins", f"/u/{unsubscribe}", f"/p/{preferences}",
                 "/u/test", "/subscribe/confirm/not-a-token"):  # fmt: skip
        check_look(client, path)
    page = check_look(client, "/subscribe")
    assert f"Choose what you would like to hear about from {NAME}" in page


def test_a_light_colour_gets_dark_text_and_no_logo_no_image_source(
    client: FlaskClient, db: Database
) -> None:
    # A colour saved before the page checked contrast: the header stays readable.
    brand(db, colour="#ffdd00", logo_url="")
    response = client.get("/subscribe")
    page = response.get_data(as_text=True)
    assert ".site-header{background:#ffdd00;color:#1f2933}" in page
    assert "--brand" not in page  # buttons keep the site's colour, white text on it
    assert 'brand-logo" src' not in page
    assert "img-src 'self' data:;" in response.headers["Content-Security-Policy"]


def test_admin_pages_keep_the_plain_policy(app: Flask, admin_client: FlaskClient) -> None:
    response = admin_client.get("/admin/")
    assert "sha256" not in response.headers["Content-Security-Policy"]


def test_an_error_on_a_stakeholders_page_wears_the_office_look(
    client: FlaskClient, db: Database
) -> None:
    brand(db)
    page = client.get("/consultations/no-such-consultation")
    assert page.status_code == 404
    html = page.get_data(as_text=True)
    assert NAME in html and "Stakeholder Mailer" not in html
    # A stakeholder is not offered the admin's sign-in page.
    assert "/login" not in html
    # The admin's own paths keep the product's page and its way in.
    admin = client.get("/admin/no-such-page").get_data(as_text=True)
    assert "Stakeholder Mailer" in admin or "/login" in admin
