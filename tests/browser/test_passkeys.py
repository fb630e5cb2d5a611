"""Passkeys in chromium with its virtual authenticator (the DevTools protocol's WebAuthn
domain): add one, sign in with the password and the passkey, then with the passkey
alone, and remove it. Browsers refuse an IP address as a passkey's site, so the live
server is opened as localhost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from mailer.accounts.models import Passkey, User, UserSession
from mailer.database import Database
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

SHOTS = Path("/work/shots/passkeys")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def local(live_server: str) -> str:
    return live_server.replace("127.0.0.1", "localhost")


def virtual_authenticator(page: Any) -> Any:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    _IDS[id(cdp)] = added["authenticatorId"]
    return cdp


def shoot(page: Any, name: str, db: Database) -> None:
    """The page at desktop and phone widths (no sideways scrolling on the phone)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    suffix = db.engine.dialect.name
    page.screenshot(path=str(SHOTS / f"{name}-desktop-{suffix}.png"), full_page=True)
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(SHOTS / f"{name}-phone-{suffix}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def password_step(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def sign_out(page: Any, base: str) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/login")


def test_add_a_passkey_sign_in_with_it_both_ways_and_remove_it(
    page: Any, live_server: str, admin_user: User, db: Database
) -> None:
    base = local(live_server)
    virtual_authenticator(page)
    password_step(page, base, admin_user.email)
    page.wait_for_url(f"{base}/admin/")

    page.goto(f"{base}/admin/account/security/")
    section = page.locator("#passkeys")
    assert section.get_by_text("You have no passkeys yet.").is_visible()
    section.get_by_label("Name for the new passkey").fill("Work laptop")
    shoot(page, "security-empty", db)
    section.get_by_role("button", name="Add a passkey").click()
    page.wait_for_url(f"{base}/admin/account/security/#passkeys")
    expect(section.get_by_role("status")).to_have_text("Passkey added: Work laptop.")
    assert section.get_by_role("heading", name="Work laptop").is_visible()
    shoot(page, "security-with-passkey", db)
    sign_out(page, base)

    # The password, then the passkey.
    password_step(page, base, admin_user.email)
    page.wait_for_url(f"{base}/login/second-factor/")
    button = page.get_by_role("button", name="Use a passkey")
    assert button.is_visible()
    shoot(page, "second-step", db)
    button.click()
    page.wait_for_url(f"{base}/admin/")
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    sign_out(page, base)

    # The passkey alone.
    page.goto(f"{base}/login")
    shoot(page, "sign-in", db)
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(f"{base}/admin/")
    assert page.get_by_role("status").get_by_text("Signed in as admin@example.org").is_visible()
    with db.transaction() as session:
        methods = session.scalars(select(UserSession.method).order_by(UserSession.id)).all()
    # Adding the first passkey counts for the browser that added it.
    assert methods == ["password+passkey", "password+passkey", "passkey"]

    # Removed, after saying yes.
    page.goto(f"{base}/admin/account/security/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove Work laptop").click()
    page.wait_for_url(f"{base}/admin/account/security/#passkeys")
    expect(page.locator("#passkeys").get_by_role("status")).to_have_text("Removed Work laptop.")
    with db.transaction() as session:
        assert session.scalars(select(Passkey)).all() == []


def test_a_refused_passkey_is_said_in_words(
    page: Any, live_server: str, admin_user: User, db: Database
) -> None:
    base = local(live_server)
    cdp = virtual_authenticator(page)
    password_step(page, base, admin_user.email)
    page.wait_for_url(f"{base}/admin/")
    page.goto(f"{base}/admin/account/security/")
    section = page.locator("#passkeys")
    section.get_by_role("button", name="Add a passkey").click()
    page.wait_for_url(f"{base}/admin/account/security/#passkeys")
    # The same device again: the browser refuses, and the page says why.
    section.get_by_role("button", name="Add a passkey").click()
    alert = section.locator("[data-passkey-error]")
    alert.wait_for(timeout=30_000)
    assert "This device already holds a passkey for your account" in alert.inner_text()
    shoot(page, "security-refused", db)
    page.get_by_role("button", name="Sign out").click()

    # A device that cannot confirm who is holding it: no passkey is used.
    authenticators = cdp.send("WebAuthn.getCredentials", {"authenticatorId": _first(cdp)})
    assert authenticators["credentials"]
    cdp.send("WebAuthn.setUserVerified", {"authenticatorId": _first(cdp), "isUserVerified": False})
    page.goto(f"{base}/login")
    page.get_by_role("button", name="Sign in with a passkey").click()
    refusal = page.locator("[data-passkey-error]")
    refusal.wait_for(timeout=30_000)
    assert "No passkey was used" in refusal.inner_text()
    shoot(page, "sign-in-refused", db)
    assert page.url == f"{base}/login"


_IDS: dict[int, str] = {}


def _first(cdp: Any) -> str:
    return _IDS[id(cdp)]


def test_without_scripts_the_pages_still_work(
    browser: Any, live_server: str, admin_user: User
) -> None:
    base = local(live_server)
    context = browser.new_context(java_script_enabled=False, viewport=DESKTOP)
    page = context.new_page()
    try:
        page.goto(f"{base}/login")
        assert not page.get_by_role("button", name="Sign in with a passkey").is_visible()
        password_step(page, base, admin_user.email)
        page.wait_for_url(f"{base}/admin/")
        page.goto(f"{base}/admin/account/security/")
        assert page.get_by_text(
            "Adding a passkey needs a browser that supports passkeys"
        ).is_visible()
        assert not page.get_by_role("button", name="Add a passkey").is_visible()
    finally:
        context.close()


def test_opened_at_an_ip_address_the_page_says_where_passkeys_work(
    page: Any, live_server: str, admin_user: User
) -> None:
    password_step(page, live_server, admin_user.email)
    page.wait_for_url(f"{live_server}/admin/")
    page.goto(f"{live_server}/admin/account/security/")
    expected = f"{local(live_server)}/admin/account/security/"
    expect(page.locator("[data-passkey-unavailable]")).to_contain_text(
        f"Passkeys work here only at {expected}"
    )
    assert not page.get_by_role("button", name="Add a passkey").is_visible()


def test_the_note_on_where_passkeys_work_wraps_on_a_phone(
    page: Any, live_server: str, admin_user: User, db: Database
) -> None:
    # Opened at 127.0.0.1, where browsers refuse passkeys: the note says where they work,
    # an address from base_url, and wraps rather than widen the page.
    page.set_viewport_size(PHONE)
    password_step(page, live_server, admin_user.email)
    page.wait_for_url(f"{live_server}/admin/")
    page.goto(f"{live_server}/admin/account/security/")
    note = page.locator("[data-passkey-unavailable]")
    expect(note).to_contain_text(
        f"Passkeys work here only at {local(live_server)}/admin/account/security/"
    )
    assert note.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shots = Path("/work/shots/fixfactors")
    shots.mkdir(parents=True, exist_ok=True)
    suffix = db.engine.dialect.name
    page.screenshot(path=str(shots / f"security-note-phone-{suffix}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(shots / f"security-note-desktop-{suffix}.png"), full_page=True)
