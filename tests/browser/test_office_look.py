"""The office's look in a real browser: the unsubscribe page and the sign-up
confirmation email, at phone and desktop width (screenshots in test-artifacts/sender/)."""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from flask import Flask

from contacts import link_owner
from contacts.models import Contact
from mailer.database import Database
from mailer.organisation.models import OrganisationSettings
from mailer.tracking import signups
from tests.browser.test_accessibility import serious
from tests.conftest import TEST_SECRET

# The look is the templates'; one backend is enough.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

NAME = "Office of the Police and Crime Commissioner for Northshire"
COLOUR = "#5b2a86"
WIDTHS = (375, 1280)


def _office(db: Database, live_server: str) -> tuple[dict[str, object], str]:
    with db.transaction() as session:
        org = session.get(OrganisationSettings, 1)
        assert org is not None
        org.name, org.colour = NAME, COLOUR
        org.logo_url = f"{live_server}/static/favicon.svg"
        contact = Contact(email="sam.jones@example.org", email_key="sam.jones@example.org")
        session.add(contact)
        session.flush()
        return org.snapshot(), link_owner.unsubscribe_token(contact, keys=[TEST_SECRET])


def _shots(artifacts_dir: Path) -> Path:
    folder = artifacts_dir / "sender"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_the_unsubscribe_page_and_confirmation_wear_the_office_look(  # type: ignore[no-untyped-def]
    browser, app: Flask, live_server: str, db: Database, artifacts_dir: Path
) -> None:
    org, token = _office(db, live_server)
    data = signups.confirmation_email(
        app.config["MAILER"],
        recipient="sam.jones@example.org",
        subject=f"Confirm: updates from {NAME}",
        about="Community safety news, Victim services",
        confirm_url=f"{live_server}/subscribe/confirm/{'x' * 120}",
        org=org,
        at=datetime(2027, 7, 20, 9, tzinfo=UTC),
    )
    message = BytesParser(policy=policy.default).parsebytes(data)
    html = message.get_body(("html",))
    assert html is not None
    folder = _shots(artifacts_dir)
    problems: dict[str, list[str]] = {}
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 800})
        page = context.new_page()
        try:
            page.goto(f"{live_server}/u/{token}")
            header = page.locator(".site-header")
            assert header.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(91, 42, 134)"
            assert page.title().endswith(NAME)
            # The logo loaded: the page's policy lets exactly it in.
            assert page.locator(".brand-logo").evaluate("img => img.naturalWidth") > 0
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            problems[f"unsubscribe-{width}"] = serious(page)
            page.screenshot(path=str(folder / f"unsubscribe-{width}.png"), full_page=True)

            # A fresh page: set_content would keep the site page's policy, which
            # (rightly) refuses the email's inline styles.
            page = context.new_page()
            page.set_content(html.get_content())
            assert page.locator("img").evaluate("img => img.naturalWidth") > 0
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            problems[f"confirmation-{width}"] = serious(page)
            page.screenshot(path=str(folder / f"confirmation-email-{width}.png"), full_page=True)
        finally:
            context.close()
    assert {k: v for k, v in problems.items() if v} == {}
