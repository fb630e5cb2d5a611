"""The webhooks pages walked as an admin would, at a desk and on a phone: add an
endpoint (a mistake first), see its secret, send a test event to a real receiver on
loopback and read the answer in the delivery log. Nothing scrolls sideways, axe-core
finds nothing serious, and screenshots are kept for a person to look at."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mailer.accounts.models import User
from mailer.config import Config
from mailer.database import Database, utcnow
from tests.browser.site import sign_in
from tests.browser.test_accessibility import serious
from tests.browser.test_responsive import _SIDEWAYS
from tests.events.helpers import Clock, dispatcher, webhook_config
from tests.events.receiver import receiving

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


@pytest.fixture
def config(tmp_path: Path, db: Database) -> Config:
    return webhook_config(tmp_path, db)


def test_add_an_endpoint_see_its_secret_and_a_test_event_in_the_log(
    browser,  # type: ignore[no-untyped-def]
    live_server: str,
    admin_user: User,
    db: Database,
    config: Config,
    artifacts_dir: Path,
) -> None:
    shots = artifacts_dir / "webhooks"
    shots.mkdir(exist_ok=True)
    problems: dict[str, object] = {}

    def look(page, name: str, width: int) -> None:  # type: ignore[no-untyped-def]
        if found := page.evaluate(_SIDEWAYS):
            problems[f"{name} at {width}px scrolls sideways"] = found
        if found := serious(page):
            problems[f"{name} at {width}px (axe)"] = found
        page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)

    with receiving() as receiver:
        receiver.answer = b'{"ok": true, "note": "<script>alert(1)</script>"}'
        for width in (1280, 390):
            context = browser.new_context(viewport={"width": width, "height": 800})
            page = context.new_page()
            try:
                sign_in(page, live_server, admin_user.email)
                if width < 600:
                    page.locator("details.admin-menu summary").click()
                page.locator("a:visible", has_text="Webhooks").first.click()
                page.wait_for_url(f"{live_server}/admin/webhooks/")
                look(page, "index-empty" if width == 1280 else "index", width)
                page.get_by_role("link", name="Add an endpoint").click()
                # A mistake first: the error stands next to its field.
                page.get_by_label("Name").fill(f"CRM {width}")
                page.get_by_label("URL").fill("ftp://crm.example.org/in")
                page.get_by_role("button", name="Add the endpoint").click()
                assert (
                    page.locator("#url-error")
                    .inner_text()
                    .endswith("The URL must start with https://.")
                )
                look(page, "form-errors", width)
                page.get_by_label("URL").fill(receiver.url)
                page.get_by_label(re.compile("contact.unsubscribed")).check()
                page.get_by_role("button", name="Add the endpoint").click()
                page.get_by_role("button", name="Show the secret").click()
                secret = page.locator("#signing-secret").inner_text()
                assert secret.startswith("whsec_")
                receiver.secret = secret
                look(page, "secret", width)
                page.get_by_role("button", name="Send a test event").click()
                assert dispatcher(db, config, Clock(utcnow())).run_once().delivered == 1
                page.reload()
                log = page.locator("#log").inner_text()
                assert "webhook.test" in log and "answered 200" in log
                assert "<script>alert(1)</script>" in log  # shown as text, not run
                look(page, "log", width)
            finally:
                context.close()
    assert [p["type"] for p in receiver.verified] == ["webhook.test", "webhook.test"]
    assert not problems, problems
