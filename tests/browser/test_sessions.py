"""Browsers signed in, seen and ended from the page: two browsers as one user, the
first signs the other out; an admin resets a colleague's second factors, who is signed
out and told by email, with the reset in the audit log."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from mailer.accounts import roles
from mailer.accounts.models import User
from mailer.audit import actions
from mailer.audit.models import AuditEntry
from mailer.database import Database, utcnow
from mailer.delivery import queue, transport_for
from mailer.delivery.factor_reset_notice import KIND
from mailer.delivery.models import SENT, QueuedMessage
from tests.accounts.test_factor_reset import counts, give_factors
from tests.browser.site import sign_in
from tests.conftest import add_user

pytestmark = pytest.mark.browser

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SHOTS = Path("/work/shots/sessions")


def shoot(page, artifacts_dir: Path, name: str, db: Database) -> None:  # type: ignore[no-untyped-def]
    # Nothing on the page may make a phone scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
    filename = f"{name}-{db.engine.dialect.name}.png"
    page.screenshot(path=str(artifacts_dir / filename), full_page=True)
    if SHOTS.parent.is_dir():
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / filename), full_page=True)


def test_signing_out_the_other_browser(
    browser,  # type: ignore[no-untyped-def]
    live_server: str,
    admin_user: User,
    artifacts_dir: Path,
    db: Database,
) -> None:
    desk = browser.new_context(viewport=DESKTOP, user_agent=CHROME_WINDOWS)
    phone = browser.new_context(viewport=PHONE, user_agent=SAFARI_IPHONE, is_mobile=True)
    try:
        first, second = desk.new_page(), phone.new_page()
        sign_in(first, live_server, admin_user.email)
        sign_in(second, live_server, admin_user.email)

        second.goto(f"{live_server}/admin/account/security/")
        assert second.get_by_text("You are signed in on 2 browsers.").is_visible()
        shoot(second, artifacts_dir, "sessions-phone", db)

        first.goto(f"{live_server}/admin/account/security/")
        section = first.get_by_role("region", name="Browsers signed in")
        assert section.get_by_text("You are signed in on 2 browsers.").is_visible()
        mine = first.get_by_role("region", name=re.compile("^Chrome on Windows"))
        assert mine.get_by_text("This browser").is_visible()
        theirs = first.get_by_role("region", name="Safari on iPhone")
        assert theirs.get_by_text("password", exact=True).is_visible()
        shoot(first, artifacts_dir, "sessions-desktop", db)

        theirs.get_by_role("button", name="Sign out of Safari on iPhone").click()
        first.wait_for_url(f"{live_server}/admin/account/security/#browsers-heading")
        assert (
            first.get_by_role("status").get_by_text("Signed out of Safari on iPhone").is_visible()
        )
        assert first.get_by_text("You are signed in on 1 browser.").is_visible()
        assert first.get_by_role("region", name="Safari on iPhone").count() == 0

        second.goto(f"{live_server}/admin/account/security/")
        assert second.url.startswith(f"{live_server}/login")
        assert second.get_by_role("heading", name="Sign in").is_visible()
        first.goto(f"{live_server}/admin/")
        assert first.url == f"{live_server}/admin/"
    finally:
        desk.close()
        phone.close()


def test_an_admin_resets_a_colleagues_second_factors(
    app: Flask,
    browser,  # type: ignore[no-untyped-def]
    live_server: str,
    admin_user: User,
    artifacts_dir: Path,
    db: Database,
) -> None:
    colleague = add_user(db, email="cole@example.org", role=roles.APPROVER, name="Cole Brook")
    theirs = browser.new_context(viewport=PHONE, user_agent=SAFARI_IPHONE, is_mobile=True)
    desk = browser.new_context(viewport=DESKTOP, user_agent=CHROME_WINDOWS)
    phone = browser.new_context(viewport=PHONE, user_agent=SAFARI_IPHONE, is_mobile=True)
    try:
        their_page = theirs.new_page()
        sign_in(their_page, live_server, colleague.email)
        give_factors(db, colleague)

        page, small = desk.new_page(), phone.new_page()
        sign_in(page, live_server, admin_user.email)
        sign_in(small, live_server, admin_user.email)
        page.goto(f"{live_server}/admin/users/")
        page.get_by_role("link", name="cole@example.org").click()
        assert page.get_by_role("heading", name="Cole Brook").is_visible()
        assert page.get_by_text("Work YubiKey").is_visible()
        assert page.get_by_text("Cole Brook is signed in on 1 browser.").is_visible()
        shoot(page, artifacts_dir, "user-page-desktop", db)
        small.goto(page.url)
        shoot(small, artifacts_dir, "user-page-phone", db)

        page.get_by_role("link", name="Reset second factors…").click()
        assert page.get_by_role(
            "heading", name="Reset the second factors of Cole Brook?"
        ).is_visible()
        shoot(page, artifacts_dir, "reset-confirm-desktop", db)
        small.goto(page.url)
        shoot(small, artifacts_dir, "reset-confirm-phone", db)
        assert counts(db, colleague) == (1, 1, 10)  # nothing happens before the yes

        page.get_by_role("button", name="Yes, reset their second factors").click()
        assert (
            page.get_by_role("status")
            .get_by_text("Reset the second factors of cole@example.org")
            .is_visible()
        )
        assert page.get_by_text("Authenticator app").is_visible()
        assert page.get_by_text("Not set up").is_visible()
        assert page.get_by_text("Cole Brook is not signed in anywhere.").is_visible()
        assert page.get_by_text("there is nothing to reset").is_visible()
        shoot(page, artifacts_dir, "reset-done-desktop", db)
        assert counts(db, colleague) == (0, 0, 0)

        their_page.goto(f"{live_server}/admin/")
        assert their_page.url.startswith(f"{live_server}/login")
    finally:
        theirs.close()
        desk.close()
        phone.close()

    # The notice goes out through the workers' queue, to the outbox here.
    config = app.config["MAILER"]
    sent = queue.drain(db, config, transport=transport_for(config), owner="test", clock=utcnow)
    assert sent == 1
    with db.transaction() as s:
        (row,) = s.scalars(select(QueuedMessage).where(QueuedMessage.kind == KIND)).all()
        assert row.state == SENT and row.recipient == colleague.email
        entry = s.scalars(
            select(AuditEntry).where(AuditEntry.action == actions.SECOND_FACTORS_RESET)
        ).one()
        assert entry.actor_label == admin_user.email
    (eml,) = (config.instance_path / "outbox").glob("*.eml")
    mail = eml.read_bytes()
    assert b"To: cole@example.org" in mail
    assert b"Subject: Your second factors were reset" in mail

    # And the audit log page shows it to the admin.
    log = browser.new_context(viewport=DESKTOP)
    try:
        audit_page = log.new_page()
        sign_in(audit_page, live_server, admin_user.email)
        audit_page.goto(f"{live_server}/admin/audit/")
        row = audit_page.get_by_role("row").filter(
            has=audit_page.get_by_role("cell", name="Second factors reset by an admin")
        )
        assert row.get_by_text("Reset the second factors of cole@example.org").is_visible()
    finally:
        log.close()
