"""Nothing typed is lost, in chromium: words typed before Attach are still there after
it, with its message in the Documents section (screenshots at 1280 and 375 px); a file
over the limit is refused before it is sent; leaving with unsaved words asks first,
and leaving after Save does not."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from mailer.config import Config
from mailer.database import Database
from tests.bulletins.helpers import make_bulletin
from tests.bulletins.test_views import PDF
from tests.conftest import PASSWORD, add_user, make_config

pytestmark = pytest.mark.browser


@pytest.fixture
def config(tmp_path: Path, db: Database) -> Config:
    """A 1 MB limit on attachments: a file over it is quick to make and to hand over."""
    return make_config(tmp_path, db.url, mail={"max_attachments_mb": 1})


def sign_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()


def in_view(page, selector: str) -> bool:  # type: ignore[no-untyped-def]
    return bool(
        page.evaluate(
            """(selector) => {
                const box = document.querySelector(selector).getBoundingClientRect();
                return box.top >= 0 && box.bottom <= window.innerHeight;
            }""",
            selector,
        )
    )


def test_typed_words_survive_attach_and_its_message_is_in_its_section(  # type: ignore[no-untyped-def]
    page, app: Flask, live_server: str, db: Database, artifacts_dir: Path
) -> None:
    editor = add_user(db, email="ed@example.org", role="editor", name="Ed")
    bulletin_id = make_bulletin(db, editor, attach=False)
    sign_in(page, live_server, "ed@example.org")
    page.goto(f"{live_server}/admin/bulletins/{bulletin_id}")

    page.get_by_label("Preheader").fill("Have your say by Friday 5pm")
    page.get_by_label("Add a document").set_input_files(
        {"name": "plan.pdf", "mimeType": "application/pdf", "buffer": b"not a pdf at all"}
    )
    page.get_by_label("Shown as (optional)").fill("The draft plan")
    page.get_by_role("button", name="Attach").click()
    page.wait_for_url(f"**/admin/bulletins/{bulletin_id}#documents")

    # The words typed before Attach are still there (saved first, as Save does).
    assert page.get_by_label("Preheader").input_value() == "Have your say by Friday 5pm"
    # The message is in the Documents section, where the page landed, and has the focus.
    error = page.locator("#documents #file-error")
    assert "does not look like a PDF" in error.inner_text()
    # The page moves focus once loaded: wait for it rather than race it.
    page.wait_for_function("document.activeElement && document.activeElement.id === 'file-error'")
    assert in_view(page, "#file-error")
    assert page.locator(".flashes").count() == 0
    assert page.get_by_label("Shown as (optional)").input_value() == "The draft plan"

    folder = artifacts_dir / "forms"
    folder.mkdir(exist_ok=True)
    page.screenshot(path=str(folder / "attach-error-1280.png"))
    page.set_viewport_size({"width": 375, "height": 800})
    page.locator("#file-error").scroll_into_view_if_needed()
    page.screenshot(path=str(folder / "attach-error-375.png"))
    page.set_viewport_size({"width": 1280, "height": 800})

    # A file over the limit is refused before it is sent, the limit stated.
    limit = app.config["MAILER"].mail.max_attachments_mb * 1024 * 1024
    page.get_by_label("Add a document").set_input_files(
        {"name": "huge.pdf", "mimeType": "application/pdf", "buffer": b"0" * (limit + 600_000)}
    )
    said = page.locator("#file-error").inner_text()
    assert "The file is 1.6 MB; the limit is 1 MB." in said
    assert page.get_by_label("Add a document").input_value() == ""
    # Attach then sends nothing: the limit stays said (not "Choose a file to attach.").
    page.evaluate("window.stayed = true")
    page.get_by_role("button", name="Attach").click()
    page.wait_for_timeout(400)
    assert page.evaluate("window.stayed === true")  # no page was loaded
    said = page.locator("#file-error").inner_text()
    assert "the limit is 1 MB" in said and "Choose a file to attach" not in said
    # The page moves focus once loaded: wait for it rather than race it.
    page.wait_for_function("document.activeElement && document.activeElement.id === 'file-error'")

    # Enter in the title box attaches (its section's button), not Save.
    page.get_by_label("Add a document").set_input_files(
        {"name": "plan.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.get_by_label("Shown as (optional)").press("Enter")
    page.locator("#documents-notes", has_text="Attached plan.pdf.").wait_for()
    # The page moves focus once loaded: wait for it rather than race it.
    page.wait_for_function(
        "document.activeElement && document.activeElement.id === 'documents-notes'"
    )


def test_leaving_with_unsaved_words_asks_and_after_save_does_not(  # type: ignore[no-untyped-def]
    page, live_server: str, db: Database
) -> None:
    editor = add_user(db, email="ed@example.org", role="editor", name="Ed")
    bulletin_id = make_bulletin(db, editor, attach=False)
    sign_in(page, live_server, "ed@example.org")
    page.goto(f"{live_server}/admin/bulletins/{bulletin_id}")
    asked: list[str] = []

    def answer(dialog) -> None:  # type: ignore[no-untyped-def]
        asked.append(dialog.type)
        dialog.dismiss()  # stay on the page

    page.on("dialog", answer)
    # Unchanged: leaving does not ask.
    assert not page.evaluate(
        "() => { const e = new Event('beforeunload', {cancelable: true});"
        " window.dispatchEvent(e); return e.defaultPrevented; }"
    )

    page.get_by_label("Subject").click()
    page.keyboard.type(" (draft)")
    page.get_by_role("link", name="All bulletins").click()
    page.wait_for_timeout(300)
    assert asked == ["beforeunload"]
    assert page.url.endswith(f"/admin/bulletins/{bulletin_id}")  # still here
    assert page.get_by_label("Subject").input_value().endswith(" (draft)")

    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved.").wait_for()
    page.get_by_role("link", name="All bulletins").click()
    page.wait_for_url(f"{live_server}/admin/bulletins/")
    assert asked == ["beforeunload"]  # saving and leaving after it did not ask
