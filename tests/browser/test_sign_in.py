"""Sign in, see the dashboard, sign out; a wrong password is shown and audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from mailer.accounts.models import User
from mailer.audit import actions
from mailer.audit.models import AuditEntry
from mailer.database import Database
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_sign_in_dashboard_sign_out(
    page,
    live_server: str,
    admin_user: User,  # type: ignore[no-untyped-def]
    artifacts_dir: Path,
    db: Database,
) -> None:
    page.goto(f"{live_server}/admin/users/")
    assert page.url.startswith(f"{live_server}/login")
    assert page.get_by_role("heading", name="Sign in").is_visible()
    page.screenshot(path=str(artifacts_dir / f"login-{db.engine.dialect.name}.png"))

    page.get_by_label("Email address").fill(admin_user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # Back to the page that was asked for, signed in.
    page.wait_for_url(f"{live_server}/admin/users/")
    assert page.get_by_role("heading", name="Users").is_visible()
    assert page.get_by_role("status").get_by_text("Signed in as admin@example.org").is_visible()

    page.get_by_role("link", name="Dashboard").click()
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    assert page.get_by_text("Welcome, Ada Admin").is_visible()
    assert page.get_by_role("navigation", name="Admin").is_visible()
    page.screenshot(
        path=str(artifacts_dir / f"dashboard-{db.engine.dialect.name}.png"), full_page=True
    )

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server}/login")
    assert page.get_by_text("You have signed out.").is_visible()
    page.goto(f"{live_server}/admin/")
    assert page.url.startswith(f"{live_server}/login")


def test_wrong_password_shows_an_error_and_is_audited(
    page,
    live_server: str,  # type: ignore[no-untyped-def]
    admin_user: User,
    db: Database,
) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("Email address").fill(admin_user.email)
    page.get_by_label("Password").fill("this is not it")
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    assert "do not match an active account" in alert.inner_text()
    # The address typed is kept; the password is not.
    assert page.get_by_label("Email address").input_value() == admin_user.email
    assert page.get_by_label("Password").input_value() == ""
    with db.transaction() as session:
        failed = session.scalars(
            select(AuditEntry).where(AuditEntry.action == actions.LOGIN_FAILED)
        ).all()
    assert len(failed) == 1 and failed[0].detail == {"reason": "wrong password"}


def test_keyboard_alone_and_phone_width(
    browser,
    live_server: str,
    admin_user: User,  # type: ignore[no-untyped-def]
    artifacts_dir: Path,
    db: Database,
) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/login")
        # The first Tab reaches the skip link, which is shown when focused.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
        page.get_by_label("Email address").focus()
        page.keyboard.type(admin_user.email)
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live_server}/admin/")
        # Nothing wider than the phone's screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.screenshot(
            path=str(artifacts_dir / f"dashboard-phone-{db.engine.dialect.name}.png"),
            full_page=True,
        )
    finally:
        context.close()
