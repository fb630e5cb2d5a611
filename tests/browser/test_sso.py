"""Single sign-on in chromium through a real OpenID Connect provider (tools/oidc-provider):
the button, the provider's page, back signed in with the mapped role; refusals in words;
an answer for another browser, and a nonce altered in the signed cookie, refused."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from waitress.server import create_server

from mailer.accounts import roles
from mailer.accounts import service as accounts
from mailer.accounts.sso import oidc
from mailer.audit import actions
from mailer.audit.models import AuditEntry
from mailer.config import Config
from mailer.database import Database
from tests.accounts.oidc_provider import (
    PROVIDER_PASSWORD,
    RunningProvider,
    free_port,
    running_provider,
)
from tests.browser.test_accessibility import serious
from tests.conftest import PASSWORD, add_user, make_config

SHOTS = Path("/work/shots/oidc")
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def mailer_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def provider(mailer_port: int) -> Iterator[RunningProvider]:
    with running_provider(f"http://127.0.0.1:{mailer_port}/login/sso/callback") as running:
        yield running


@pytest.fixture
def oidc_extra() -> dict[str, Any]:
    return {}


@pytest.fixture
def config(
    tmp_path: Path,
    db: Database,
    provider: RunningProvider,
    mailer_port: int,
    oidc_extra: dict[str, Any],
) -> Config:
    oidc.forget_provider()
    return make_config(
        tmp_path,
        db.url,
        app={"base_url": f"http://127.0.0.1:{mailer_port}"},
        auth={"require_second_factor": "everyone"},
        oidc=provider.oidc_section(**oidc_extra),
    )


@pytest.fixture
def live_server(app: Flask, mailer_port: int) -> Iterator[str]:
    # On the port the provider knows the callback at (base_url's).
    server = create_server(app, host="127.0.0.1", port=mailer_port, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{mailer_port}"
    finally:
        server.close()
        thread.join(timeout=5)


def _shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    assert serious(page) == [], name


def _at_provider(page: Any, live_server: str, *, start: str = "/admin/users/") -> None:
    page.goto(f"{live_server}{start}")
    page.get_by_role("link", name="Sign in with Test Provider").click()
    page.get_by_label("Username").wait_for()


def _provider_sign_in(page: Any, sub: str) -> None:
    page.get_by_label("Username").fill(sub)
    page.get_by_label("Password").fill(PROVIDER_PASSWORD)
    page.get_by_role("button", name="Continue").click()


def _no_sideways_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_sign_in_through_the_provider_gets_the_mapped_role(
    page: Any, live_server: str, db: Database
) -> None:
    page.goto(f"{live_server}/admin/users/")
    assert page.url.startswith(f"{live_server}/login")
    button = page.get_by_role("link", name="Sign in with Test Provider")
    assert button.is_visible()
    if db.engine.dialect.name == "sqlite":
        _shoot(page, "sign-in-desktop")
        page.set_viewport_size(PHONE)
        _no_sideways_scroll(page)
        _shoot(page, "sign-in-phone")
        page.set_viewport_size({"width": 1280, "height": 800})
    button.click()
    # At the provider's own sign-in page.
    page.get_by_label("Username").wait_for()
    assert not page.url.startswith(live_server)
    _provider_sign_in(page, "alice")
    # Back at the page that was asked for, signed in; not held at enrolment although
    # everyone must use a second factor (the provider applies its own).
    page.wait_for_url(f"{live_server}/admin/users/")
    assert page.get_by_role("heading", name="Users").is_visible()
    assert page.get_by_role("status").get_by_text("Signed in as alice@example.org").is_visible()
    with db.transaction() as s:
        user = accounts.find_by_email(s, "alice@example.org")
        assert user is not None and user.role == roles.ADMIN
        login = s.scalars(select(AuditEntry).where(AuditEntry.action == actions.LOGIN)).one()
        assert login.summary == "Signed in (single sign-on)"


@pytest.mark.parametrize(
    ("sub", "words"),
    [
        ("nobody", "Your account at Test Provider is not in a group that may use"),
        ("outsider", "is not at an address this office lets sign in"),
        ("unverified", "has not confirmed that unverified@example.org is yours"),
    ],
)
def test_refusals_are_shown_in_words(
    page: Any, live_server: str, db: Database, sub: str, words: str
) -> None:
    _at_provider(page, live_server)
    _provider_sign_in(page, sub)
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "Sign-in failed" in alert.inner_text() and words in alert.inner_text()
    # Still offered the way in, and not signed in.
    assert page.get_by_role("link", name="Sign in with Test Provider").is_visible()
    if sub == "nobody" and db.engine.dialect.name == "sqlite":
        _shoot(page, "refused-desktop")
        page.set_viewport_size(PHONE)
        _no_sideways_scroll(page)
        _shoot(page, "refused-phone")
    page.goto(f"{live_server}/admin/")
    assert page.url.startswith(f"{live_server}/login")


def test_an_answer_with_another_browsers_state_is_refused(
    page: Any, live_server: str, db: Database
) -> None:
    _at_provider(page, live_server)
    # An answer made for some other browser's sign-in, brought to this one.
    page.goto(f"{live_server}/login/sso/callback?state=someone-elses-state&code=their-code")
    assert "not started in this browser" in page.get_by_role("alert").inner_text()
    with db.transaction() as s:
        refused = s.scalars(
            select(AuditEntry).where(AuditEntry.action == actions.SSO_REFUSED)
        ).one()
    assert refused.detail["reason"] == "state did not match"


def test_a_nonce_altered_in_the_cookie_is_refused(
    page: Any, live_server: str, app: Flask, db: Database
) -> None:
    _at_provider(page, live_server)
    # Re-sign the cookie with the app's own secret, the nonce changed: the ID token the
    # provider issues still carries the nonce that was sent.
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    cookie = next(c for c in page.context.cookies(live_server) if c["name"] == "mailer_session")
    data = serializer.loads(cookie["value"])
    data["sso_flow"]["nonce"] = "an-altered-nonce"
    page.context.add_cookies(
        [{**cookie, "value": serializer.dumps(data)}]  # same name, host and path: replaced
    )
    _provider_sign_in(page, "alice")
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "could not be trusted" in alert.inner_text()
    with db.transaction() as s:
        assert accounts.find_by_email(s, "alice@example.org") is None
        refused = s.scalars(
            select(AuditEntry).where(AuditEntry.action == actions.SSO_REFUSED)
        ).one()
    assert refused.detail["reason"] == "ID token refused: nonce did not match"


@pytest.mark.parametrize("oidc_extra", [{"only": True, "break_glass": "keeper@example.org"}])
def test_only_leads_with_the_provider_and_admits_break_glass(
    page: Any, live_server: str, db: Database
) -> None:
    add_user(db, email="editor@example.org", role=roles.EDITOR)
    add_user(db, email="keeper@example.org", role=roles.ADMIN)
    page.goto(f"{live_server}/login")
    if db.engine.dialect.name == "sqlite":
        _shoot(page, "sign-in-only-desktop")
    page.get_by_label("Email address").fill("editor@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    assert "Passwords are turned off here" in page.get_by_role("alert").inner_text()
    page.get_by_label("Email address").fill("keeper@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{live_server}/admin/**")
    assert page.get_by_role("status").get_by_text("Signed in as keeper@example.org").is_visible()
