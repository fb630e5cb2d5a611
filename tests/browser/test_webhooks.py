"""The webhooks pages walked as an admin would, at a desk and on a phone: add an
endpoint (a mistake first), see its secret, send a test event to a real receiver on
loopback and read the answer in the delivery log. Nothing scrolls sideways, axe-core
finds nothing serious, and screenshots are kept for a person to look at."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import update

from mailer.accounts.models import User
from mailer.config import Config
from mailer.database import Database, utcnow
from mailer.events import endpoints
from mailer.events.models import WebhookEndpoint, WebhookMessage
from tests.browser.site import sign_in
from tests.browser.test_accessibility import serious
from tests.browser.test_responsive import _SIDEWAYS
from tests.events.helpers import Clock, add_endpoint, dispatcher, webhook_config
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


def test_a_switched_off_endpoint_says_why_and_refuses_a_retry(
    browser,  # type: ignore[no-untyped-def]
    live_server: str,
    admin_user: User,
    db: Database,
    config: Config,
    artifacts_dir: Path,
) -> None:
    """An endpoint that failed until it was switched off: its page says since when in
    the office's time, each answer once, and "Retry now" is refused in words."""
    shots = artifacts_dir / "webhooks-off"
    shots.mkdir(exist_ok=True)
    problems: dict[str, object] = {}
    with receiving() as receiver:
        receiver.status, receiver.answer = 500, b"database down"
        endpoint_id, receiver.secret = add_endpoint(db, config, admin_user, receiver.url)
        with db.transaction() as session:
            found = session.get(WebhookEndpoint, endpoint_id)
            assert found is not None
            endpoints.send_test(session, found, by=session.merge(admin_user), now=utcnow())
        clock = Clock(utcnow())
        send = dispatcher(db, config, clock)
        assert send.run_once().failed == 1
        clock.advance(days=2)
        with db.writing() as session:
            session.execute(
                update(WebhookMessage).values(next_attempt_at=clock(), claimed_until=None)
            )
        assert send.run_once().disabled
        for width in (1280, 390):
            context = browser.new_context(viewport={"width": width, "height": 800})
            page = context.new_page()
            try:
                sign_in(page, live_server, admin_user.email)
                page.goto(f"{live_server}/admin/webhooks/{endpoint_id}")
                state = page.locator("dl.summary").inner_text()
                assert "failing since" in state and "UTC" not in state
                assert "answered 500: answered" not in page.locator("#log").inner_text()
                page.get_by_role("button", name=re.compile("Retry now")).first.click()
                assert "switched off, so nothing is sent" in page.inner_text("main")
                if found := page.evaluate(_SIDEWAYS):
                    problems[f"{width}px scrolls sideways"] = found
                if found := serious(page):
                    problems[f"{width}px (axe)"] = found
                page.screenshot(path=str(shots / f"refused-{width}.png"), full_page=True)
            finally:
                context.close()
    assert len(receiver.got) == 2
    assert not problems, problems
