"""Two-factor sign-in in a real browser: held at enrolment until an authenticator app is
set up (its codes computed from the key the page shows), then password and code; a code
used once is refused; a recovery code works once."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import expect

from mailer.config import Config
from mailer.database import Database, utcnow
from tests.accounts.totp_helpers import enrol
from tests.conftest import PASSWORD, make_config

pytestmark = pytest.mark.browser

SHOTS = Path("/work/shots/totp")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def config(tmp_path: Path, db: Database) -> Config:
    return make_config(tmp_path, db.url, auth={"require_second_factor": "everyone"})


def shoot(page, name: str, db: Database) -> None:  # type: ignore[no-untyped-def]
    """The page at desktop and phone width; nothing wider than the phone."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    backend = db.engine.dialect.name
    page.screenshot(path=str(SHOTS / f"{name}-desktop-{backend}.png"), full_page=True)
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(SHOTS / f"{name}-phone-{backend}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def password(page, live_server: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server}/login")


def test_enrol_sign_in_with_a_code_replay_and_recovery(
    page,  # type: ignore[no-untyped-def]
    live_server: str,
    admin_user,  # type: ignore[no-untyped-def]
    db: Database,
) -> None:
    security = f"{live_server}/admin/account/security/"
    password(page, live_server, admin_user.email)
    # Held at enrolment: every admin page leads to the security page.
    page.wait_for_url(security)
    for path in ("/admin/", "/admin/users/", "/admin/contacts/"):
        page.goto(f"{live_server}{path}")
        assert page.url == security, path
    assert page.get_by_role("heading", name="Set up a second factor to continue").is_visible()
    assert page.get_by_text("Not set up.").is_visible()
    shoot(page, "held", db)

    page.get_by_role("button", name="Set up an authenticator app").click()
    assert page.get_by_role("heading", name="Set up an authenticator app").is_visible()
    assert page.locator("svg.qr").is_visible()
    key = re.sub(r"\s", "", page.locator("#setup-key").inner_text())
    assert re.fullmatch(r"[A-Z2-7]{32}", key)
    shoot(page, "setup", db)
    app = pyotp.TOTP(key)

    page.get_by_label("Code from your authenticator app").fill("000000")
    page.get_by_role("button", name="Confirm and finish").click()
    assert "That code is not right" in page.get_by_role("alert").first.inner_text()
    assert re.sub(r"\s", "", page.locator("#setup-key").inner_text()) == key

    page.get_by_label("Code from your authenticator app").fill(app.now())
    page.get_by_role("button", name="Confirm and finish").click()
    assert page.get_by_role("heading", name="Your recovery codes").is_visible()
    codes = [c.strip() for c in page.locator("#recovery-code-list code").all_inner_texts()]
    assert len(set(codes)) == 10
    assert page.get_by_text("They are shown only this once.").is_visible()
    assert page.get_by_role("button", name="Print them").is_visible()
    shoot(page, "recovery-codes", db)
    page.get_by_role("link", name="I have saved them: continue").click()
    # Released: the dashboard opens.
    page.wait_for_url(f"{live_server}/admin/")
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    page.goto(security)
    assert page.get_by_text("You have 10 of 10 recovery codes left.").is_visible()
    shoot(page, "security", db)
    sign_out(page, live_server)

    # Password, then a code (the next step's: the set-up used this one).
    code = app.at(time.time() + 30)
    password(page, live_server, admin_user.email)
    page.wait_for_url(f"{live_server}/login/second-factor/")
    assert page.get_by_role("heading", name="Confirm it is you").is_visible()
    shoot(page, "second-step", db)
    page.get_by_label("Code from your authenticator app").fill(f"{code[:3]} {code[3:]}")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server}/admin/")
    sign_out(page, live_server)

    # The same code again: refused.
    password(page, live_server, admin_user.email)
    page.wait_for_url(f"{live_server}/login/second-factor/")
    page.get_by_label("Code from your authenticator app").fill(code)
    page.get_by_role("button", name="Continue").click()
    assert "That code is not right" in page.get_by_role("alert").inner_text()
    shoot(page, "second-step-wrong", db)

    # A recovery code instead: signed in, told how many are left.
    page.get_by_label("Code from your authenticator app").fill(codes[0].upper())
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server}/admin/")
    assert page.get_by_text("You have 9 recovery codes left.").is_visible()
    sign_out(page, live_server)

    # The same recovery code next time: refused.
    password(page, live_server, admin_user.email)
    page.wait_for_url(f"{live_server}/login/second-factor/")
    page.get_by_label("Code from your authenticator app").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    assert "That code is not right" in page.get_by_role("alert").inner_text()
    assert page.url == f"{live_server}/login/second-factor/"


def test_the_second_steps_field_has_the_focus_and_its_error_beside_it(
    page,  # type: ignore[no-untyped-def]
    live_server: str,
    admin_user,  # type: ignore[no-untyped-def]
    db: Database,
) -> None:
    enrol(db, admin_user, now=utcnow())
    shots = Path("/work/shots/fixsignin")
    shots.mkdir(parents=True, exist_ok=True)
    backend = db.engine.dialect.name
    password(page, live_server, admin_user.email)
    page.wait_for_url(f"{live_server}/login/second-factor/")
    # Typing can start at once: the field has the focus when the page loads...
    expect(page.locator("#code")).to_be_focused()
    page.keyboard.type("000000")
    page.keyboard.press("Enter")
    page.wait_for_selector("#code-error")
    # ...and again after a wrong code, with the error said beside it, and read with it.
    expect(page.locator("#code")).to_be_focused()
    field = page.get_by_label("Code from your authenticator app")
    assert field.get_attribute("aria-invalid") == "true"
    assert "code-error" in (field.get_attribute("aria-describedby") or "").split()
    assert "That code is not right" in page.locator("#code-error").inner_text()
    summary_link = page.locator(".error-summary a[href='#code']")
    assert "That code is not right" in summary_link.inner_text()
    for name, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
        page.screenshot(path=str(shots / f"second-step-error-{name}-{backend}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


FIX_SHOTS = Path("/work/shots/fixfactors")


def shoot_fix(page, name: str, db: Database) -> None:  # type: ignore[no-untyped-def]
    FIX_SHOTS.mkdir(parents=True, exist_ok=True)
    backend = db.engine.dialect.name
    page.screenshot(path=str(FIX_SHOTS / f"{name}-desktop-{backend}.png"), full_page=True)
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(FIX_SHOTS / f"{name}-phone-{backend}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def test_a_lost_phone_is_replaced_after_a_recovery_code(
    page,  # type: ignore[no-untyped-def]
    live_server: str,
    admin_user,  # type: ignore[no-untyped-def]
    db: Database,
) -> None:
    _, codes = enrol(db, admin_user, now=utcnow() - timedelta(minutes=5))
    password(page, live_server, admin_user.email)
    page.wait_for_url(f"{live_server}/login/second-factor/")
    page.get_by_label("Code from your authenticator app").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server}/admin/")

    page.goto(f"{live_server}/admin/account/security/")
    page.get_by_text("Set up a new phone").first.click()
    shoot_fix(page, "security-new-phone", db)
    page.get_by_role("button", name="Set up a new phone").click()
    assert page.get_by_role("heading", name="Set up an authenticator app").is_visible()
    app = pyotp.TOTP(re.sub(r"\s", "", page.locator("#setup-key").inner_text()))
    page.get_by_label("Code from your authenticator app").fill(app.now())
    page.get_by_role("button", name="Confirm and finish").click()
    assert page.get_by_text("Your new phone is set up").is_visible()
    shoot_fix(page, "new-phone-codes", db)
