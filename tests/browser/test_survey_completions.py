"""The survey completion address on the consultation page (with its copy button), and
survey responses in the cascade report, at a desk and on a phone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask import Flask

from mailer.accounts.models import User
from mailer.database import Database
from mailer.tracking import completions
from scheduler.models import Consultation
from tests.browser.site import sign_in
from tests.browser.test_responsive import _SIDEWAYS
from tests.tracking.helpers import launched
from tests.tracking.test_cascade import arrive, survey_button, visitor

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

SHOTS = Path(os.environ.get("MAILER_SHOTS", "/work/shots/bulletins"))
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def test_completion_address_and_responses_in_the_report(
    app: Flask, db: Database, admin_user: User, live_server: str, browser
) -> None:
    cid, messages = launched(app, db)
    with db.transaction() as session:
        code = completions.ensure_code(session.get(Consultation, cid))
    message = next(iter(messages.values()))
    for n in range(2):
        person = visitor(app, 60 + n)
        survey = person.get(survey_button(arrive(person, message.share))).headers["Location"]
        person.get(f"/c/{code}?share={survey.rsplit('share=', 1)[1]}")
    visitor(app, 70).get(f"/c/{code}")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, viewport in WIDTHS.items():
        context = browser.new_context(viewport=viewport)
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        page = context.new_page()
        try:
            sign_in(page, live_server, admin_user.email)
            page.goto(f"{live_server}/admin/consultations/{cid}")
            address = page.locator("#completion-address")
            assert address.inner_text() == f"http://127.0.0.1:5000/c/{code}?share={{share}}"
            assert page.evaluate(_SIDEWAYS) is None
            address.scroll_into_view_if_needed()
            page.get_by_role("button", name="Copy the address").click()
            page.get_by_text("Copied.").wait_for()
            copied = page.evaluate("navigator.clipboard.readText()")
            assert copied == address.inner_text()
            page.screenshot(path=str(SHOTS / f"completion-address-{name}.png"), full_page=True)
            page.locator("section", has=page.locator("#completion-heading")).screenshot(
                path=str(SHOTS / f"completion-section-{name}.png")
            )

            page.goto(f"{live_server}/admin/cascade/{cid}")
            row = page.locator(
                "tr", has=page.get_by_role("rowheader", name="Survey responses", exact=True)
            )
            assert row.locator("td").inner_text() == "3"
            shared = page.get_by_role("rowheader", name="Survey responses through share links")
            assert page.locator("tr", has=shared).locator("td").inner_text() == "2"
            assert page.get_by_role("columnheader", name="Survey responses").count() >= 3
            assert page.evaluate(_SIDEWAYS) is None
            page.screenshot(path=str(SHOTS / f"cascade-report-{name}.png"), full_page=True)

            page.goto(f"{live_server}/c/{code}")
            page.get_by_role("heading", name="Thank you for your response").wait_for()
            assert page.evaluate(_SIDEWAYS) is None
            page.screenshot(path=str(SHOTS / f"thank-you-{name}.png"), full_page=True)
        finally:
            context.close()
