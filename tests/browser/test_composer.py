"""The composer in chromium: the whole message beside the text, as a chosen contact,
the warning when the words repeat the template, and its one-click switch."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from contacts.models import Contact
from mailer.bulletins.models import Bulletin
from mailer.config import Config
from mailer.database import Database
from mailer.email_templates.models import KIND_LAUNCH, EmailTemplate
from tests.browser.site import sign_in
from tests.conftest import add_user
from tests.scheduler import plans
from tests.scheduler.audience import make_list

pytestmark = pytest.mark.browser

WORDS = (
    "Dear colleague,\n\nThe draft plan is out for consultation. "
    "[Take the survey](https://survey.example.org/plan) by the end of February."
)


def _sideways(page) -> int:  # type: ignore[no-untyped-def]
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def test_the_composer_shows_the_whole_message_and_the_repeats(
    page,  # type: ignore[no-untyped-def]
    app: Flask,
    live_server: str,
    db: Database,
    config: Config,
    artifacts_dir: Path,
) -> None:
    editor = add_user(db, email="ed@example.org", role="editor", name="Ed")
    partners = make_list(db, [("a@example.org", None)], name="Partners")
    plans.create(db, config, editor, plans.details(partners))
    with db.transaction() as session:
        session.add(
            Contact(email="sian@example.org", email_key="sian@example.org", name="Siân O'Brien")
        )
    with db.transaction() as session:
        timeline = session.query(Bulletin).count()  # the consultation's own messages
    folder = artifacts_dir / "composer"
    folder.mkdir(parents=True, exist_ok=True)

    sign_in(page, live_server, editor.email)
    page.goto(f"{live_server}/admin/bulletins/new?kind=launch")
    page.get_by_label("Subject").fill("Have your say on the draft plan")
    page.get_by_label("About a consultation").select_option(
        label="Draft Police and Crime Plan 2027-2031"
    )
    page.get_by_label("Message", exact=True).fill(WORDS)

    # Shown as a real contact, picked by name.
    picker = page.get_by_label("Show it as")
    picker.fill("Siân")
    option = page.locator("#composer-contacts option").first
    option.wait_for(state="attached")
    picker.fill(option.get_attribute("value") or "")
    page.get_by_text("Shown as Siân O'Brien").wait_for()

    warnings = page.locator("#body-warnings")
    warnings.get_by_text("Your text starts with a greeting").wait_for()
    warnings.get_by_text("Your text links to the survey").wait_for()
    frame = page.frame_locator("#composer-frame")
    # The whole message: the template's greeting for Siân above the writer's own words.
    frame.get_by_text("Dear Siân O'Brien,").wait_for()
    frame.get_by_text("The draft plan is out for consultation.").wait_for()
    frame.get_by_text("Tell us what matters for policing in Northshire.").wait_for()  # real facts
    page.screenshot(path=str(folder / "composer-1280.png"), full_page=True)

    warnings.get_by_role("button", name="Switch the template's greeting off").click()
    assert not page.get_by_label("Greeting", exact=True).is_checked()
    page.get_by_text("Your text starts with a greeting").wait_for(state="detached")
    assert page.get_by_label("Message", exact=True).input_value() == WORDS  # typed text kept
    with db.transaction() as session:
        assert session.query(Bulletin).count() == timeline  # previewing saved nothing
    if _seeds_read_blocks(db):  # the seed templates obey blocks (the "message" work)
        frame.get_by_text("Dear Siân O'Brien,").wait_for(state="detached")

    page.set_viewport_size({"width": 375, "height": 800})
    page.locator("#composer").scroll_into_view_if_needed()
    frame.get_by_text("The draft plan is out for consultation.").wait_for()
    page.screenshot(path=str(folder / "composer-375.png"), full_page=True)
    page.screenshot(path=str(folder / "composer-375-message.png"))
    assert _sideways(page) <= 0

    create = page.get_by_role("button", name="Create bulletin")
    create.scroll_into_view_if_needed()
    # Chromium routes a click by where the (just replaced) message frame was painted;
    # let it paint after the scroll first.
    page.wait_for_timeout(300)
    create.click()
    page.get_by_text("Bulletin created").wait_for()
    with db.transaction() as session:
        saved = session.query(Bulletin).order_by(Bulletin.id.desc()).first()
        assert saved.blocks == {"greeting": {"on": False}}
        assert saved.body_markdown == WORDS


def _seeds_read_blocks(db: Database) -> bool:
    with db.transaction() as session:
        template = session.scalar(select(EmailTemplate).where(EmailTemplate.kind == KIND_LAUNCH))
        return "blocks.greeting" in template.versions[-1].html
