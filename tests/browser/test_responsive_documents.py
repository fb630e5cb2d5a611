"""The bulletin page with a document attached, and a contact whose name is one long
word, on a phone: neither scrolls sideways (the Documents table reads as one card per
document; a heading breaks anywhere)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from contacts.models import Contact
from mailer.accounts.models import User
from mailer.bulletins import compose
from mailer.database import Database
from tests.browser.site import sign_in
from tests.browser.test_responsive import _SIDEWAYS
from tests.bulletins.test_views import PDF
from tests.contacts.test_importing import HEADER, run_import

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

LONG_NAME = "Maximilianaugustinusbartholomewfitzwilliamsonhargreaves-Montgomery"
LONG_FILE = "Northshire-police-and-crime-plan-2026-2030-consultation-draft-v7.pdf"


def test_a_bulletin_with_a_document_and_a_long_named_contact_fit_a_phone(
    page,  # type: ignore[no-untyped-def]
    app: Flask,
    live_server: str,
    admin_user: User,
    db: Database,
) -> None:
    run_import(db, f"{HEADER}\nlong.name@example.org,{LONG_NAME},,,,,\n", lists=["Partners"])
    with db.transaction() as session:
        bulletin = compose.create(
            session,
            compose.Draft(
                kind="bulletin",
                template_id=None,
                subject="Stakeholder Special: December",
                preheader="",
                body_markdown="News.",
            ),
            by=session.get(User, admin_user.id),
        )
        bulletin_id = bulletin.id
        contact_id = session.scalar(
            select(Contact.id).where(Contact.email == "long.name@example.org")
        )
    sign_in(page, live_server, admin_user.email)
    page.goto(f"{live_server}/admin/bulletins/{bulletin_id}")
    page.get_by_label("Add a document").set_input_files(
        files=[{"name": LONG_FILE, "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_label("Shown as (optional)").fill("The draft police and crime plan (PDF)")
    page.get_by_role("button", name="Attach").click()
    page.wait_for_url(f"**/admin/bulletins/{bulletin_id}*")
    assert page.locator("#documents table").count() == 1
    offenders = {}
    for width in (320, 375):
        page.set_viewport_size({"width": width, "height": 800})
        for path in (f"/admin/bulletins/{bulletin_id}", f"/admin/contacts/{contact_id}"):
            page.goto(live_server + path)
            if found := page.evaluate(_SIDEWAYS):
                offenders[f"{path} at {width}px"] = found
    assert offenders == {}
