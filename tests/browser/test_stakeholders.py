"""An editor imports a messy CSV through the preview; a stakeholder leaves and comes back."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from contacts import link_owner, tokens
from contacts.models import Contact
from mailer.accounts import roles
from mailer.database import Database
from tests.conftest import PASSWORD, add_user
from tests.contacts.test_importing import HEADER, run_import

pytestmark = pytest.mark.browser

MESSY = (
    "E-mail Address;Full Name;Organization;Sector\r\n"
    "alice@example.org;Alice Ångström;Northshire Council;Local authority\r\n"
    "\r\n"
    "bob@@example.org;Bob;;\r\n"
    "carol@example.org;Carol;Fire;Fire and rescue\r\n"
)


def sign_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/admin/")


def test_editor_imports_through_the_preview(
    page,
    live_server: str,
    db: Database,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    artifacts_dir: Path,
) -> None:
    add_user(db, email="editor@example.org", role=roles.EDITOR)
    csv_file = tmp_path / "partners.csv"
    csv_file.write_bytes(MESSY.encode("cp1252"))
    sign_in(page, live_server, "editor@example.org")
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Contacts").click()
    page.get_by_role("link", name="Import a CSV").click()
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_label("and a new list called").fill("Plan partners")
    page.get_by_role("button", name="Check the file").click()

    assert page.get_by_role("heading", name="Check before importing partners.csv").is_visible()
    rejected = page.get_by_role("region", name="Rejected rows")
    assert "4" in rejected.inner_text() and "bob@@example.org" in rejected.inner_text()
    page.screenshot(
        path=str(artifacts_dir / f"import-preview-{db.engine.dialect.name}.png"), full_page=True
    )
    with db.transaction() as session:
        assert session.scalars(select(Contact)).all() == []  # nothing yet

    page.get_by_role("button", name="Import 2 people").click()
    assert page.get_by_role("heading", name="Imported partners.csv").is_visible()
    page.get_by_role("link", name="See the contacts").click()
    assert page.get_by_role("link", name="alice@example.org").is_visible()
    page.get_by_role("link", name="alice@example.org").click()
    assert page.get_by_role("heading", name="Alice Ångström").is_visible()
    assert page.get_by_role("link", name="Plan partners").is_visible()


def test_stakeholder_unsubscribes_and_comes_back(
    page,
    app: Flask,
    live_server: str,  # type: ignore[no-untyped-def]
    db: Database,
    artifacts_dir: Path,
) -> None:
    run_import(db, f"{HEADER}\nalice@example.org,Alice,,,,,\n")
    with db.transaction() as session:
        contact = session.scalar(select(Contact))
        contact_id = contact.id
        token = link_owner.unsubscribe_token(
            contact, keys=tokens.secret_keys(app.config), send_id=1
        )
    page.goto(f"{live_server}/u/{token}")
    assert page.get_by_role("heading", name="Unsubscribe?").is_visible()
    page.screenshot(path=str(artifacts_dir / f"unsubscribe-{db.engine.dialect.name}.png"))
    page.get_by_role("button", name="Unsubscribe a•••@example.org").click()
    assert page.get_by_role("heading", name="You have unsubscribed").is_visible()

    page.get_by_role("button", name="Subscribe again").click()
    assert page.get_by_text("Tick the box to confirm").first.is_visible()
    with db.transaction() as session:
        assert session.get(Contact, contact_id).status == "unsubscribed"
    page.get_by_label("Yes, I want to receive stakeholder emails").check()
    page.get_by_role("button", name="Subscribe again").click()
    assert page.get_by_text("You are subscribed again.").is_visible()
    with db.transaction() as session:
        assert session.get(Contact, contact_id).status == "active"
