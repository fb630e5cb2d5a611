"""The public pages of this issue in a real browser on a phone: the sign-up page, a
sent message's web version and the archive fit 375 pixels without sideways scrolling,
and axe-core finds nothing serious on them."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from mailer.accounts.models import User
from mailer.database import Database, utcnow
from mailer.delivery.models import QueuedMessage, Send
from tests.browser.site import populate
from tests.browser.test_accessibility import serious

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


def _fits(page, width: int) -> bool:  # type: ignore[no-untyped-def]
    return page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [375, 1280])
def test_sign_up_page_and_web_version_on_a_phone(
    browser,  # type: ignore[no-untyped-def]
    app: Flask,
    live_server: str,
    admin_user: User,
    db: Database,
    artifacts_dir: Path,
    width: int,
) -> None:
    populate(app, db, admin_user, live_server)
    with db.transaction() as session:
        # The bulletin populate sent: given its web address as an approval would, and
        # published.
        send = session.scalars(select(Send).where(Send.fired_at.is_not(None))).first()
        send.web_token = secrets.token_urlsafe(12)
        send.published_at = utcnow()
        token = send.web_token
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    problems: dict[str, list[str]] = {}
    try:
        page.goto(f"{live_server}/subscribe")
        problems["/subscribe"] = serious(page)
        assert _fits(page, width)
        page.get_by_label("Plan updates").check()
        page.get_by_label("Your name (optional)").fill("Sam Colleague")
        page.get_by_label("Your organisation (optional)").fill("Northshire Youth Trust")
        page.get_by_label("Email address").fill("sam@example.org")
        page.get_by_role("button", name="Sign up").click()
        page.get_by_text("an email is on its way").wait_for()
        problems["/subscribe (done)"] = serious(page)
        assert _fits(page, width)

        page.goto(f"{live_server}/bulletins")
        problems["/bulletins"] = serious(page)
        assert _fits(page, width)
        page.get_by_role("link", name="Stakeholder Special: news").click()
        page.wait_for_url(f"**/bulletins/{token}")
        page.get_by_text("Hello").first.wait_for()
        problems["web version"] = serious(page)
        page.screenshot(path=str(artifacts_dir / f"web-version-{width}.png"), full_page=True)
        assert _fits(page, width), page.evaluate("document.documentElement.scrollWidth")
        assert page.get_by_role("heading", level=1).count() == 1
        # Printed, the page is the message alone.
        page.emulate_media(media="print")
        assert not page.locator(".site-header").is_visible()
        assert not page.locator("#about-these-links").is_visible()
        assert page.locator(".web-version").is_visible()
    finally:
        context.close()
    assert {path: found for path, found in problems.items() if found} == {}
    with db.transaction() as session:
        assert session.scalars(select(QueuedMessage.recipient)).all() == ["sam@example.org"]
