"""A general bulletin sent on its own, in chromium: the editor writes it, builds its
audience (lists, a tag, an area, minus a list) and submits it; the approver finds it on
the dashboard and approves it; it reaches exactly the expected people; its report counts
them. At a desk and on a phone, without sideways scrolling."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from mailer.accounts import roles
from mailer.database import Database, utcnow
from mailer.delivery import pool, sends
from mailer.delivery.models import SENT, Delivery, Send
from mailer.tracking import links
from tests.browser.test_stakeholders import sign_in
from tests.conftest import add_user
from tests.contacts.test_audience import town

pytestmark = pytest.mark.browser


def _sideways(page) -> int:  # type: ignore[no-untyped-def]
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def _shot(page, folder: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    assert _sideways(page) <= 0, f"{name} scrolls sideways by {_sideways(page)}px"


@pytest.mark.parametrize("width", [1280, 375])
def test_a_general_bulletin_is_built_submitted_approved_and_sent(
    browser,  # type: ignore[no-untyped-def]
    app: Flask,
    live_server: str,
    db: Database,
    artifacts_dir: Path,
    width: int,
) -> None:
    place = town(db)
    add_user(db, email="editor@example.org", role=roles.EDITOR)
    add_user(db, email="approver@example.org", role=roles.APPROVER)
    shots = artifacts_dir / "bulletin-sends"
    shots.mkdir(exist_ok=True)
    viewport = {"width": width, "height": 900}

    editor = browser.new_context(viewport=viewport).new_page()
    sign_in(editor, live_server, "editor@example.org")
    editor.goto(f"{live_server}/admin/bulletins/")
    editor.get_by_label("New bulletin for").select_option("bulletin")
    editor.get_by_role("button", name="Start writing").click()
    editor.get_by_label("Subject").fill("Stakeholder Special: December")
    editor.get_by_label("Message", exact=True).fill(
        "Dear colleague,\n\nRead [the annual report](https://www.example.org/annual-report)."
    )
    editor.get_by_role("button", name="Create bulletin").click()
    editor.get_by_text("Bulletin created").wait_for()

    editor.get_by_role("link", name="Choose who it goes to and when").click()
    editor.get_by_role("checkbox", name="A (", exact=False).first.check()
    editor.get_by_role("checkbox", name="B (", exact=False).first.check()
    # Tags and areas are shown as some contact first wrote them ("Youth" or "youth").
    for word in ("youth", "rural", "north"):
        editor.get_by_role("checkbox", name=re.compile(f"^{word}$", re.IGNORECASE)).check()
    editor.get_by_text("Leave out the members of some lists").click()
    editor.locator(f"#exclude-{place.panel}").check()
    # The count follows the choices: ann and bob (cat is on the Panel list, dan has
    # neither tag, hal, jon and kim are left out, ivy bounced).
    editor.wait_for_function(
        "() => document.querySelector('#audience-summary').innerText"
        ".includes('2 people would receive it')"
    )
    editor.get_by_label("As soon as it is approved").check()
    _shot(editor, shots, f"send-form-{width}")
    editor.get_by_role("button", name="Submit for approval").click()
    editor.get_by_text("Submitted for approval").wait_for()
    assert "Awaiting approval" in editor.locator("main").inner_text()
    # Its author may not approve it, and is not offered the button.
    assert editor.get_by_role("button", name="Approve and schedule").count() == 0

    approver = browser.new_context(viewport=viewport).new_page()
    sign_in(approver, live_server, "approver@example.org")
    approver.get_by_role("link", name="Stakeholder Special: December").click()
    _shot(approver, shots, f"send-approval-{width}")
    approver.get_by_label("I have read the whole message").check()
    approver.get_by_role("button", name="Approve and schedule").click()
    approver.get_by_text("Approved").first.wait_for()
    assert "Scheduled" in approver.locator("main").inner_text()

    # The scheduler's part, as a fired job does it; then a worker sends.
    config = app.config["MAILER"]
    with db.transaction() as session:
        send = session.scalars(select(Send).where(Send.bulletin_id.is_not(None))).one()
        send.due_at = utcnow()
        sends.make_due(session, send, now=utcnow(), domain="example.org")
        links.prepare_send(session, send, base_url=config.app.base_url, links=True)
        send_id = send.id
    pool.run_once(db, config)
    with db.reading() as session:
        reached = set(
            session.scalars(
                select(Delivery.contact_id).where(
                    Delivery.send_id == send_id, Delivery.state == SENT
                )
            )
        )
    assert reached == {place.people["ann"], place.people["bob"]}

    approver.goto(f"{live_server}/admin/sends/{send_id}/report")
    report = approver.locator("main").inner_text()
    assert "https://www.example.org/annual-report" in report
    _shot(approver, shots, f"send-report-{width}")
    editor.context.close()
    approver.context.close()
