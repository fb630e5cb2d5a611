"""The approval conversation in chromium: the approver reads what changed since the
last approval (screenshots at a desk and on a phone, the panel within the window), sends it
back with a comment, and the writer reads the comment on the consultation's page."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from mailer.accounts import roles
from mailer.database import Database
from tests.browser.test_responsive import _SIDEWAYS
from tests.browser.test_stakeholders import sign_in
from tests.scheduler.audience import make_list
from tests.scheduler.test_approval_views import edit_message, launch_bulletin
from tests.scheduler.test_consultation_views import approve_as, as_user, create, post

pytestmark = pytest.mark.browser


def _panel_overflow(page) -> int:  # type: ignore[no-untyped-def]
    """How far the approval panel, or a diff inside it, reaches past the window. (The
    timeline table below it is wider than a phone on its own; not this panel's.)"""
    return page.evaluate(
        """() => Math.max(...[...document.querySelectorAll('section.review, .diff')]
             .map(e => Math.max(e.getBoundingClientRect().right - window.innerWidth,
                                e.scrollWidth - e.clientWidth)))"""
    )


def test_an_approver_reads_the_changes_and_sends_it_back_with_a_comment(
    browser,  # type: ignore[no-untyped-def]
    app: Flask,
    live_server: str,
    db: Database,
    artifacts_dir: Path,
) -> None:
    # Approved once, changed, submitted again: the page has something to compare.
    editor = as_user(app, db, "editor@example.org", roles.EDITOR)
    approver = as_user(app, db, "approver@example.org", roles.APPROVER)
    cid = create(editor, make_list(db, [("a@example.org", None)]), type="general")
    page = f"/admin/consultations/{cid}"
    post(editor, f"{page}/submit", page)
    approve_as(approver, page)
    post(editor, f"{page}/return", page)
    edit_message(editor, launch_bulletin(db, cid), "The plan closes on 30 April.\n\nTell us.")
    post(editor, f"{page}/submit", page)

    shots = artifacts_dir / "approval"
    shots.mkdir(exist_ok=True)
    reader = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(reader, live_server, "approver@example.org")
    reader.goto(f"{live_server}{page}")
    changes = reader.get_by_role("region", name="What changed since the last approval")
    changes.locator("ins").first.wait_for()
    assert "The plan closes on 30 April." in changes.inner_text()
    for width in (1280, 375):
        reader.set_viewport_size({"width": width, "height": 900})
        changes.scroll_into_view_if_needed()
        reader.screenshot(path=str(shots / f"approval-{width}.png"), full_page=True)
        assert _panel_overflow(reader) <= 0, f"the approval panel is too wide at {width}px"

    reader.get_by_label("Send it back with a comment").fill("Say where the survey is.")
    reader.get_by_role("button", name="Send back to draft").click()
    reader.get_by_text("Sent back to draft with your comment").wait_for()

    writer = browser.new_context(viewport={"width": 375, "height": 900}).new_page()
    sign_in(writer, live_server, "editor@example.org")
    writer.goto(f"{live_server}{page}")
    notice = writer.get_by_role("region", name="Sent back by approver@example.org")
    assert "Say where the survey is." in notice.inner_text()


# A comment that is one unbroken 300-character address: nowhere to break but anywhere.
LONG_COMMENT = "https://survey.example.org/" + "consultation-response-" * 12 + "x" * 9


def test_a_long_unbroken_comment_never_pushes_a_page_sideways(
    browser,  # type: ignore[no-untyped-def]
    app: Flask,
    live_server: str,
    db: Database,
) -> None:
    editor = as_user(app, db, "editor@example.org", roles.EDITOR)
    approver = as_user(app, db, "approver@example.org", roles.APPROVER)
    cid = create(editor, make_list(db, [("a@example.org", None)]), type="general")
    page = f"/admin/consultations/{cid}"
    post(editor, f"{page}/submit", page)
    assert len(LONG_COMMENT) == 300
    post(approver, f"{page}/send-back", page, comment=LONG_COMMENT)

    offenders: dict[str, str] = {}
    for email in ("editor@example.org", "approver@example.org"):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        reader = context.new_page()
        try:
            sign_in(reader, live_server, email)
            for width in (375, 1280):
                reader.set_viewport_size({"width": width, "height": 900})
                for path in (page, "/admin/"):
                    reader.goto(f"{live_server}{path}")
                    if found := reader.evaluate(_SIDEWAYS):
                        offenders[f"{path} as {email} at {width}px"] = found
            if email == "editor@example.org":
                assert (
                    LONG_COMMENT
                    in reader.get_by_role("region", name="Sent back to you").inner_text()
                )
        finally:
            context.close()
    assert offenders == {}, "\n".join(f"{where}: {what}" for where, what in offenders.items())
