"""Writing a bulletin in chromium: the live preview, the phone-width preview, a test."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from mailer.database import Database
from mailer.delivery import pool
from tests.conftest import PASSWORD, add_user

pytestmark = pytest.mark.browser


def test_compose_live_preview_phone_preview_and_test_send(
    page,
    app: Flask,
    live_server: str,
    db: Database,  # type: ignore[no-untyped-def]
) -> None:
    add_user(db, email="ed@example.org", role="editor", name="Ed")
    page.goto(f"{live_server}/login")
    page.get_by_label("Email address").fill("ed@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.goto(f"{live_server}/admin/bulletins/")
    # A general bulletin: a launch about no consultation has no facts to preview yet.
    page.get_by_label("New bulletin for").select_option("bulletin")
    page.get_by_role("button", name="Start writing").click()
    page.get_by_label("Subject").fill("Have your say on the draft plan")
    page.get_by_label("Message", exact=True).fill(
        "We want **your views**.\n\n![](https://www.example.org/chart.png)"
    )
    # The live preview shows the whole message as it will read, and what to look at, unsaved.
    preview = page.frame_locator("#composer-frame")
    preview.locator("strong", has_text="your views").wait_for()
    page.locator("#body-warnings li", has_text="has no alt text").wait_for()
    page.get_by_role("button", name="Create bulletin").click()
    page.get_by_text("Bulletin created").wait_for()
    assert "has no alt text" in page.locator("#body-warnings").inner_text()  # listed once
    assert "has no alt text" not in page.locator(".review").inner_text()

    page.get_by_role("link", name="Preview as a contact").click()
    phone = page.locator("iframe.email-frame-phone")
    phone.wait_for()
    page.wait_for_load_state("load")  # the frames' documents too
    widths = page.evaluate("() => [...document.querySelectorAll('iframe')].map(f => f.clientWidth)")
    assert 375 in [round(w) for w in widths]
    assert len(page.frames) == 3
    for child in page.frames[1:]:
        overflow = child.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{child.url} scrolls sideways by {overflow}px"
        assert "Have your say on the draft plan" in child.inner_text("body")

    page.get_by_role("link", name="Plain text").click()
    assert "We want your views" in page.locator("pre").inner_text()

    page.get_by_role("link", name="Back to the bulletin").click()
    page.get_by_label("Send to").fill("me@example.org")
    page.get_by_role("button", name="Send the test").click()
    page.get_by_text("Test queued for me@example.org").wait_for()
    # Queued by the request; a delivery worker sends it, and the page then says so.
    pool.run_once(db, app.config["MAILER"])
    page.reload()
    page.get_by_text(
        re.compile(
            r"Test sent to me@example.org on [A-Z][a-z]+day \d{1,2} [A-Z][a-z]+ \d{4}, "
            r"(\d{1,2}(:\d\d)?[ap]m|midday|midnight \(start of the day\)): written to the outbox"
        )
    ).wait_for()
