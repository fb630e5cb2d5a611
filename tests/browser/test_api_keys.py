"""The API keys page in a real browser, at a desk and on a phone: make a key (errors
next to their fields), see it once with a copy button, revoke it after a confirmation;
and the API reference page. Screenshots go to the artifacts folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mailer.accounts.models import User
from mailer.config import Config
from mailer.database import Database
from tests.browser.site import sign_in
from tests.conftest import make_config

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SHOTS = Path("/work/shots/plumbing")


@pytest.fixture
def config(tmp_path: Path, db: Database) -> Config:
    return make_config(tmp_path, db.url, auth={"require_second_factor": "none"})


def shoot(page, artifacts_dir: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
    path = artifacts_dir / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if SHOTS.parent.is_dir():
        SHOTS.mkdir(exist_ok=True)
        shutil.copy(path, SHOTS / path.name)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_making_seeing_once_and_revoking_a_key(
    browser,  # type: ignore[no-untyped-def]
    live_server: str,
    admin_user: User,
    artifacts_dir: Path,
    size: str,
) -> None:
    viewport = DESKTOP if size == "desktop" else PHONE
    context = browser.new_context(viewport=viewport)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    try:
        sign_in(page, live_server, admin_user.email)
        page.goto(f"{live_server}/admin/api-keys/")
        assert page.get_by_text("No key yet.").is_visible()

        page.get_by_label("Name").fill("CRM sync")
        page.get_by_label("Expires (optional)").fill("soon")
        page.get_by_role("button", name="Make the key").click()
        alert = page.get_by_role("alert")
        alert.get_by_text("Choose at least one thing the key may do.").wait_for()
        assert page.locator("#key-expires-error").is_visible()
        assert page.get_by_label("Name").input_value() == "CRM sync"
        shoot(page, artifacts_dir, f"api-keys-errors-{size}")

        page.get_by_label("contacts:read", exact=False).check()
        page.get_by_label("contacts:write", exact=False).first.check()
        page.get_by_label("Expires (optional)").fill("90d")
        page.get_by_role("button", name="Make the key").click()
        page.get_by_role("heading", name="API key made").wait_for()
        secret = page.locator("#api-key-secret").inner_text().strip()
        assert secret.startswith("sm_")
        page.get_by_role("button", name="Copy the key").click()
        page.get_by_text("Copied.").wait_for()
        shoot(page, artifacts_dir, f"api-keys-made-{size}")

        page.get_by_role("link", name="Back to API keys").click()
        page.get_by_role("heading", name="Make a key").wait_for()
        assert secret not in page.content()
        shoot(page, artifacts_dir, f"api-keys-list-{size}")
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Revoke CRM sync").click()
        page.get_by_text("is revoked: it no longer works").wait_for()
        shoot(page, artifacts_dir, f"api-keys-revoked-{size}")

        page.goto(f"{live_server}/api/v1/")
        page.get_by_role("heading", name="Using the API").wait_for()
        shoot(page, artifacts_dir, f"api-reference-{size}")
    finally:
        context.close()
