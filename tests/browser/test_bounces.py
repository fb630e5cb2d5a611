"""The bounces page, one bounce in full, a send's page with bounces, and the dashboard's
warnings, at a desk and on a phone: nothing scrolls sideways, axe-core finds nothing
serious, a hostile bounce runs no script, and screenshots are kept for a person to look
at."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from mailer.accounts.models import User
from mailer.bounces.models import COMPLAINT, SOFT, Bounce
from mailer.database import Database
from tests.bounces.pages_helpers import HOSTILE, bounce_back, refuse, sent_send
from tests.browser.site import sign_in
from tests.browser.test_accessibility import serious
from tests.browser.test_responsive import _SIDEWAYS
from tests.delivery.helpers import START

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

LONG = "partnerships.and.community.engagement.team@northshire-police-and-crime.example.org"
ADDRESSES = [LONG, "full.mailbox@example.org", "annoyed@example.org", "typo@exmaple.org"]


def came_back(db: Database, author: User) -> tuple[int, int]:
    send_id = sent_send(db, addresses=[*ADDRESSES, "fine@example.org"], author=author)
    bounce_back(
        db,
        send_id=send_id,
        address=LONG,
        now=START + timedelta(hours=1),
        diagnostic=HOSTILE + " " + "x" * 300,
        raw=(
            b"From: Mail Delivery System <MAILER-DAEMON@relay.example>\r\n"
            b"Subject: Undelivered Mail Returned to Sender\r\n"
            b"Content-Type: text/html\r\n\r\n<script>alert('dsn')</script>"
            + LONG.encode()
            + b": 550 5.1.1 "
            + b"y" * 400
            + b"\r\n"
        ),
    )
    bounce_back(
        db,
        send_id=send_id,
        address=ADDRESSES[1],
        now=START + timedelta(hours=2),
        kind=SOFT,
        status="4.2.2",
        diagnostic="smtp; 452 4.2.2 mailbox full",
    )
    bounce_back(
        db,
        send_id=send_id,
        address=ADDRESSES[2],
        now=START + timedelta(hours=3),
        kind=COMPLAINT,
        status="",
        diagnostic="abuse report (feedback loop)",
    )
    refuse(db, send_id=send_id, address=ADDRESSES[3], reply="550 5.1.1 <typo@exmaple.org>: no")
    with db.transaction() as session:
        bounce_id = session.scalar(select(Bounce.id).where(Bounce.address == LONG))
    assert bounce_id is not None
    return send_id, bounce_id


def test_the_bounces_pages_at_a_desk_and_on_a_phone(
    browser,  # type: ignore[no-untyped-def]
    live_server: str,
    admin_user: User,
    db: Database,
    artifacts_dir: Path,
) -> None:
    send_id, bounce_id = came_back(db, admin_user)
    shots = artifacts_dir / "bounces"
    shots.mkdir(exist_ok=True)
    pages = {
        "bounces": "/admin/bounces",
        "bounces-soft": "/admin/bounces?kind=soft",
        "bounce": f"/admin/bounces/{bounce_id}",
        "send": f"/admin/sends/{send_id}",
        "send-report": f"/admin/sends/{send_id}/report",
        # The send's 40 % bounces and 33 % complaints: both warnings.
        "dashboard": "/admin/",
    }
    problems: dict[str, object] = {}
    dialogs: list[str] = []
    for width in (1280, 375):
        context = browser.new_context(viewport={"width": width, "height": 800})
        page = context.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        try:
            sign_in(page, live_server, admin_user.email)
            for name, path in pages.items():
                page.goto(live_server + path)
                if found := page.evaluate(_SIDEWAYS):
                    problems[f"{name} at {width}px scrolls sideways"] = found
                if found := serious(page):
                    problems[f"{name} at {width}px (axe)"] = found
                page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
            # Walk it as a person would: the page, the filter, a row's details, its send.
            page.goto(live_server + "/admin/")
            if width < 600:
                page.locator("details.admin-menu summary").click()
            page.locator("a:visible", has_text="Bounces").first.click()
            page.wait_for_url(f"{live_server}/admin/bounces")
            page.get_by_label("Kind").select_option("complaint")
            page.get_by_role("button", name="Show").click()
            page.wait_for_url("**kind=complaint**")
            assert page.get_by_text(ADDRESSES[2]).count() == 1
            assert page.get_by_text(ADDRESSES[1]).count() == 0
            page.goto(live_server + "/admin/bounces")
            page.locator(f"a[href='/admin/bounces/{bounce_id}']").click()
            assert "<script>" in page.locator("pre.source").last.inner_text()
            page.get_by_role("link", name="Stakeholder Special: news").click()
            page.wait_for_url(f"{live_server}/admin/sends/{send_id}")
        finally:
            context.close()
    assert dialogs == [], "a hostile bounce ran a script"
    assert problems == {}
