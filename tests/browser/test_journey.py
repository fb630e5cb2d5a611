"""The comms team's whole journey in chromium, as two people, with the real scheduler
and workers sending to the outbox; then a stakeholder's side of it; then the report.
Screenshots of the main pages are saved under test-artifacts/journey/."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from flask import Flask

from mailer.app import create_app
from mailer.database import Database, utcnow
from mailer.delivery import pool
from mailer.demo import demo_pdf
from scheduler.runner import Scheduler
from tests.conftest import PASSWORD, add_user, make_config

pytestmark = pytest.mark.browser

# A person's browser: Playwright's own user agent says "HeadlessChrome", which the
# product rightly does not count as a person.
PERSON = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0"
PARTNERS = (
    "email,name,organisation,organisation_type\n"
    "cc@police.example.org,Dana Reeve,Northshire Police,Chief Constable's office\n"
    "panel@council.example.org,Priya Shah,Police and Crime Panel,Police and Crime Panel\n"
    "resident@example.org,Morgan Ellis,,Member of the public\n"
    "help@victims.example.org,Chris Day,Victim Care,Victims' service\n"
    "not-an-address,Broken Row,,\n"
)


@pytest.fixture
def app(tmp_path: Path, db: Database) -> Iterator[Flask]:
    # Any hour, any day: the journey runs whenever CI does.
    config = make_config(
        tmp_path,
        db.url,
        scheduler={"quiet_hours": "", "send_on_weekends": True, "holidays": ""},
    )
    application = create_app(config)
    application.config["TESTING"] = True
    yield application
    application.extensions["mailer.db"].dispose()


@pytest.fixture
def background(app: Flask) -> Iterator[None]:
    """The scheduler and the workers, as `mailer run` has them."""
    db = app.extensions["mailer.db"]
    config = app.config["MAILER"]
    stop = threading.Event()
    scheduler = Scheduler(db, config, sync_seconds=0.5)
    threads = [threading.Thread(target=scheduler.run, args=(stop,), daemon=True)]
    threads[0].start()
    threads += pool.start(db, config, stop)
    yield
    stop.set()
    for thread in threads:
        thread.join(timeout=30)


def sign_in(browser, base: str, email: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, user_agent=PERSON)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/admin/")
    return page


def shot(page, folder: Path, name: str, *, full_page: bool = True) -> None:  # type: ignore[no-untyped-def]
    page.screenshot(path=str(folder / f"{name}.png"), full_page=full_page)


def outbox_messages(app: Flask) -> list:  # type: ignore[type-arg]
    folder = app.config["MAILER"].instance_path / "outbox"
    parser = BytesParser(policy=policy.default)
    return [parser.parsebytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]


def text_of(message) -> str:  # type: ignore[no-untyped-def]
    return message.get_body(preferencelist=("plain",)).get_content()


def wait_for(condition, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_the_whole_journey(  # type: ignore[no-untyped-def]
    browser, app: Flask, live_server: str, db: Database, background: None, artifacts_dir: Path
) -> None:
    folder = artifacts_dir / "journey"
    folder.mkdir(exist_ok=True)
    add_user(db, email="editor@example.org", role="editor", name="Eddie Editor")
    add_user(db, email="approver@example.org", role="approver", name="Ada Approver")
    plan = folder / "draft-plan.pdf"
    plan.write_bytes(demo_pdf())

    # --- the editor: contacts, with a rejected row fixed ---------------------------
    editor = sign_in(browser, live_server, "editor@example.org")
    editor.goto(f"{live_server}/admin/contacts/import")
    csv_file = folder / "partners.csv"
    csv_file.write_text(PARTNERS)
    editor.get_by_label("CSV file").set_input_files(str(csv_file))
    editor.get_by_label("and a new list called").fill("Plan stakeholders")
    editor.get_by_role("button", name="Check the file").click()
    assert "not-an-address" in editor.locator("main").inner_text()
    shot(editor, folder, "01-import-preview")
    editor.get_by_role("button", name=re.compile(r"Import 4 people")).click()
    editor.get_by_role("heading", name="Imported partners.csv").wait_for()
    # The rejected row, corrected, imported on its own.
    fixed = folder / "fixed.csv"
    fixed.write_text("email,name\nbroken.row@example.org,Broken Row\n")
    editor.goto(f"{live_server}/admin/contacts/import")
    editor.get_by_label("CSV file").set_input_files(str(fixed))
    editor.get_by_label("Plan stakeholders").check()
    editor.get_by_role("button", name="Check the file").click()
    editor.get_by_role("button", name=re.compile(r"Import 1 person")).click()
    editor.get_by_role("heading", name="Imported fixed.csv").wait_for()

    # --- the editor: the consultation, its timeline and the draft plan --------------
    zone = app.config["MAILER"].app.tz
    now = utcnow().astimezone(zone)
    closes = (now + timedelta(days=21)).date()
    editor.goto(f"{live_server}/admin/consultations/new")
    editor.get_by_label("Title").fill("Draft Police and Crime Plan")
    editor.get_by_label("Summary").fill("Tell us what matters for policing in Northshire.")
    editor.get_by_label("What is consulted on").select_option("plan_draft")
    editor.locator("#opens_date").fill(now.date().isoformat())
    editor.locator("#opens_time").fill(now.strftime("%H:%M"))
    editor.locator("#closes_date").fill(closes.isoformat())
    editor.get_by_label("Survey address").fill("https://survey.example.org/plan")
    editor.get_by_label("Plan stakeholders").check()
    editor.get_by_role("button", name="Create the draft").click()
    editor.get_by_text("Consultation created as a draft").wait_for()
    editor.get_by_label("Attach a document").set_input_files(str(plan))
    editor.get_by_role("button", name="Attach", exact=True).click()
    editor.get_by_text("Document attached.").wait_for()
    shot(editor, folder, "02-timeline")
    consultation_url = editor.url.split("#")[0]  # Attach lands on its section (#documents)

    # Preview the launch as a real stakeholder at phone width, and send a test.
    editor.get_by_role("link", name="Edit the message").first.click()
    message_url = editor.url
    editor.get_by_role("link", name="Preview as a contact").click()
    editor.goto(editor.url.split("?")[0] + "?as=resident@example.org")
    for frame in ("iframe.email-frame-desktop", "iframe.email-frame-phone"):
        editor.frame_locator(frame).get_by_text("Dear Morgan Ellis").wait_for()
    editor.wait_for_load_state("networkidle")
    # Chromium's full-page capture blanks or squeezes the frames; the window shows them.
    editor.set_viewport_size({"width": 1280, "height": 1300})
    shot(editor, folder, "03-preview-phone", full_page=False)
    editor.set_viewport_size({"width": 1280, "height": 900})
    editor.goto(message_url)
    editor.get_by_label("Send to").fill("editor@example.org")
    editor.get_by_role("button", name="Send the test").click()
    wait_for(lambda: any("[TEST]" in str(m["Subject"]) for m in outbox_messages(app)))
    editor.goto(consultation_url)
    editor.get_by_role("button", name="Submit for approval").click()
    editor.get_by_text("Submitted.").wait_for()

    # --- the approver: the statutory check, then approval ----------------------------
    approver = sign_in(browser, live_server, "approver@example.org")
    approver.get_by_role("link", name="Draft Police and Crime Plan").first.click()
    assert "Statutory consultees" in approver.locator("main").inner_text()
    shot(approver, folder, "04-approval")
    approver.get_by_label("I have read the whole message").check()
    approver.get_by_role("button", name="Approve and schedule").click()
    approver.get_by_text("Approved.").wait_for()

    # The launch goes to the outbox on time (its time is now).
    def launch_out() -> list:  # type: ignore[type-arg]
        return [m for m in outbox_messages(app) if str(m["Subject"]).startswith("Have your say")]

    wait_for(lambda: len(launch_out()) == 5, timeout=60)
    approver.goto(f"{live_server}/admin/outbox/")
    shot(approver, folder, "05-outbox")

    # --- a stakeholder: opens the message, shares, signs a colleague up ---------------
    message = next(m for m in launch_out() if "resident@example.org" in str(m["To"]))
    text = text_of(message)
    share = re.search(r"http://[^\s]+/s/[A-Za-z0-9_-]+(?![/A-Za-z0-9_-])", text).group(0)
    told = re.search(r"http://[^\s]+/s/[A-Za-z0-9_-]+/shared", text).group(0)
    unsubscribe = re.search(r"http://[^\s]+/u/[A-Za-z0-9_.-]+", text).group(0)
    base_url = app.config["MAILER"].app.base_url
    stakeholder_context = browser.new_context(
        viewport={"width": 375, "height": 800}, user_agent=PERSON
    )
    stakeholder = stakeholder_context.new_page()
    colleague_context = browser.new_context(
        viewport={"width": 375, "height": 800}, user_agent=PERSON
    )
    colleague = colleague_context.new_page()
    colleague.goto(share.replace(base_url, live_server))
    colleague.get_by_role("heading", name="Draft Police and Crime Plan").wait_for()
    shot(colleague, folder, "06-public-page-phone")
    colleague.get_by_label("Email address").fill("colleague@example.org")
    colleague.get_by_role("button", name="Register").click()
    colleague.get_by_text("an email is on its way").wait_for()
    wait_for(lambda: any("colleague@example.org" in str(m["To"]) for m in outbox_messages(app)))
    confirmation = next(m for m in outbox_messages(app) if "colleague@example.org" in str(m["To"]))
    confirm = re.search(r"http://[^\s]+/confirm/[A-Za-z0-9_-]+", text_of(confirmation)).group(0)
    colleague.goto(confirm.replace(base_url, live_server))
    colleague.get_by_role("button", name="Yes, send me updates").click()
    colleague.get_by_role("heading", name="You are registered").wait_for()

    # ... tells us they cascaded it, then unsubscribes through the page.
    stakeholder.goto(told.replace(base_url, live_server))
    stakeholder.get_by_label("Newsletter or bulletin").check()
    stakeholder.get_by_label("Roughly how many people?").fill("120")
    stakeholder.get_by_role("button", name="Tell us").click()
    stakeholder.get_by_text("Thank you for passing it on").wait_for()
    stakeholder.goto(unsubscribe.replace(base_url, live_server))
    stakeholder.get_by_role("button", name=re.compile("Unsubscribe")).click()
    stakeholder.get_by_role("heading", name="You have unsubscribed").wait_for()

    # --- the report shows all of it ---------------------------------------------------
    editor.goto(consultation_url)
    editor.get_by_role("link", name="Cascade report").click()
    shot(editor, folder, "07-cascade-report")
    figures = dict(
        re.findall(
            r'<th scope="row">([^<]+)</th><td data-measure="\d+">(\d+)</td>', editor.content()
        )
    )
    assert figures["Delivered"] == "5"
    assert figures["Share link visits"] == "1"
    assert figures["Sign-ups through share links"] == "1"
    assert figures["Cascades confirmed"] == "1"
    assert figures["People reached, as reported"] == "120"
    editor.goto(f"{live_server}/admin/")
    assert "Recent unsubscribes" in editor.locator("main").inner_text()
    assert "Morgan Ellis" in editor.locator("main").inner_text()
    shot(editor, folder, "08-dashboard")
    for page in (editor, approver, stakeholder, colleague):
        page.context.close()
