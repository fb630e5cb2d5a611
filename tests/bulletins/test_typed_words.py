"""Nothing typed on the bulletin page is lost: Attach and Send a test save the words
typed above them first (as Save does), keep what was typed in their own section, and
say what happened inside that section, not at the top of the page."""

from __future__ import annotations

import io
import re
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import func, select

from mailer.bulletins.models import Bulletin, BulletinAttachment
from mailer.database import Database
from mailer.delivery.models import QueuedMessage
from tests.bulletins.helpers import add_send
from tests.bulletins.test_views import PDF, create_bulletin
from tests.conftest import add_user, csrf_from, login, make_config


def section(page: str, section_id: str) -> str:
    """The HTML of one <section> of the page."""
    match = re.search(rf'<section id="{section_id}".*?</section>', page, re.S)
    assert match, f"no section {section_id}"
    return match.group(0)


def top_flashes(page: str) -> str:
    match = re.search(r'<div class="flashes">.*?</div>\s*</div>', page, re.S)
    return match.group(0) if match else ""


def typed(client: FlaskClient, bulletin_id: int, **fields: object) -> dict[str, object]:
    """The compose form as the page sends it with an action: its words, as typed."""
    page = client.get(f"/admin/bulletins/{bulletin_id}").get_data(as_text=True)
    values: dict[str, object] = {
        "csrf_token": csrf_from(page),
        "subject": "Stakeholder Special: the draft plan",
        "preheader": "Closes on Sunday",
        "body_markdown": "Hello **partners**.",
        "title": "",
        "addresses": "",
    }
    values.update(fields)
    return values


def stored(db: Database, bulletin_id: int) -> Bulletin:
    with db.transaction() as session:
        bulletin = session.get(Bulletin, bulletin_id)
        session.expunge(bulletin)
        return bulletin


def attachments(db: Database, bulletin_id: int) -> int:
    with db.transaction() as session:
        return session.scalar(
            select(func.count())
            .select_from(BulletinAttachment)
            .where(BulletinAttachment.bulletin_id == bulletin_id)
        )


def test_attach_keeps_a_typed_unsaved_preheader(admin_client: FlaskClient, db: Database) -> None:
    bulletin_id = create_bulletin(admin_client)
    response = admin_client.post(
        f"/admin/bulletins/{bulletin_id}/attachments",
        data=typed(
            admin_client,
            bulletin_id,
            preheader="Have your say by Friday 5pm",
            file=(io.BytesIO(PDF), "plan.pdf"),
        ),
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/admin/bulletins/{bulletin_id}#documents")
    assert stored(db, bulletin_id).preheader == "Have your say by Friday 5pm"
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="Have your say by Friday 5pm"' in page
    documents = section(page, "documents")
    assert "Attached plan.pdf." in documents and 'role="status"' in documents
    assert "Your changes were saved first." in documents
    assert "Attached plan.pdf." not in top_flashes(page)


def test_a_refused_file_is_said_in_its_section_and_keeps_the_title(
    admin_client: FlaskClient, db: Database
) -> None:
    bulletin_id = create_bulletin(admin_client)
    response = admin_client.post(
        f"/admin/bulletins/{bulletin_id}/attachments",
        data=typed(
            admin_client,
            bulletin_id,
            preheader="Typed before Attach",
            title="The draft plan (PDF)",
            file=(io.BytesIO(b"not a pdf at all"), "plan.pdf"),
        ),
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    documents = section(page, "documents")
    assert "does not look like a PDF" in documents
    assert 'role="alert"' in documents and 'aria-invalid="true"' in documents
    assert 'value="The draft plan (PDF)"' in documents
    assert "does not look like a PDF" not in top_flashes(page)
    assert stored(db, bulletin_id).preheader == "Typed before Attach"
    assert attachments(db, bulletin_id) == 0


def test_attach_with_words_that_cannot_be_saved_shows_them_again(
    admin_client: FlaskClient, db: Database
) -> None:
    bulletin_id = create_bulletin(admin_client)
    response = admin_client.post(
        f"/admin/bulletins/{bulletin_id}/attachments",
        data=typed(
            admin_client,
            bulletin_id,
            subject="   ",
            body_markdown="My careful new words",
            file=(io.BytesIO(PDF), "plan.pdf"),
        ),
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "My careful new words" in page  # shown again as typed
    assert "error-summary" in page and "Write a subject" in page
    assert "Not attached" in section(page, "documents")
    assert 'data-unsaved="true"' in page  # leaving asks first
    assert stored(db, bulletin_id).body_markdown != "My careful new words"
    assert attachments(db, bulletin_id) == 0


def test_attach_to_a_locked_bulletin_saves_and_attaches_nothing(
    admin_client: FlaskClient, db: Database
) -> None:
    bulletin_id = create_bulletin(admin_client)
    add_send(db, bulletin_id, "submit", "schedule")  # approved: its words are locked
    response = admin_client.post(
        f"/admin/bulletins/{bulletin_id}/attachments",
        data=typed(
            admin_client,
            bulletin_id,
            preheader="A change after approval",
            file=(io.BytesIO(PDF), "plan.pdf"),
        ),
        content_type="multipart/form-data",
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'value="A change after approval"' in page
    assert "Your changes are not saved" in section(page, "documents")
    assert stored(db, bulletin_id).preheader == "Closes on Sunday"
    assert attachments(db, bulletin_id) == 0


def test_another_role_cannot_attach_or_save_words(
    admin_client: FlaskClient, app, db: Database
) -> None:
    bulletin_id = create_bulletin(admin_client)
    add_user(db, email="reader@example.org", role="approver")
    reader = app.test_client()
    login(reader, "reader@example.org")
    response = reader.post(
        f"/admin/bulletins/{bulletin_id}/attachments",
        data=typed(
            reader, bulletin_id, preheader="Not mine to change", file=(io.BytesIO(PDF), "a.pdf")
        ),
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    response = reader.post(
        f"/admin/bulletins/{bulletin_id}/test",
        data=typed(reader, bulletin_id, preheader="Not mine either", addresses="r@example.org"),
    )
    assert response.status_code == 403
    assert stored(db, bulletin_id).preheader == "Closes on Sunday"
    assert attachments(db, bulletin_id) == 0


def test_the_same_attach_twice_is_refused_the_second_time(
    admin_client: FlaskClient, db: Database
) -> None:
    bulletin_id = create_bulletin(admin_client)
    for _ in range(2):
        response = admin_client.post(
            f"/admin/bulletins/{bulletin_id}/attachments",
            data=typed(admin_client, bulletin_id, file=(io.BytesIO(PDF), "plan.pdf")),
            content_type="multipart/form-data",
            follow_redirects=True,
        )
    assert "already has a file called plan.pdf" in section(
        response.get_data(as_text=True), "documents"
    )
    assert attachments(db, bulletin_id) == 1


def test_a_bad_test_address_keeps_what_was_typed_with_the_error_beside_it(
    admin_client: FlaskClient, db: Database
) -> None:
    bulletin_id = create_bulletin(admin_client)
    typed_addresses = "me@example.org, colleague@@example"
    response = admin_client.post(
        f"/admin/bulletins/{bulletin_id}/test",
        data=typed(
            admin_client, bulletin_id, preheader="Saved with the test", addresses=typed_addresses
        ),
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("#test-send")
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    test_send = section(page, "test-send")
    assert f">{typed_addresses}</textarea>" in test_send  # not reset to the writer's own
    assert "colleague@@example" in test_send and 'role="alert"' in test_send
    assert 'aria-invalid="true"' in test_send and "addresses-error" in test_send
    assert "colleague@@example" not in top_flashes(page)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(QueuedMessage)) == 0
    # The words typed with it were saved first, as Save would.
    assert stored(db, bulletin_id).preheader == "Saved with the test"


def test_a_test_send_saves_the_typed_words_first_and_says_so_in_its_section(
    admin_client: FlaskClient, db: Database
) -> None:
    bulletin_id = create_bulletin(admin_client)
    response = admin_client.post(
        f"/admin/bulletins/{bulletin_id}/test",
        data=typed(
            admin_client, bulletin_id, subject="The words I typed", addresses="me@example.org"
        ),
        follow_redirects=True,
    )
    test_send = section(response.get_data(as_text=True), "test-send")
    assert "Test queued for me@example.org" in test_send
    assert stored(db, bulletin_id).subject == "The words I typed"
    with db.transaction() as session:
        queued = session.scalars(select(QueuedMessage)).all()
        assert len(queued) == 1 and b"The words I typed" in queued[0].data


def test_an_absurd_address_list_is_refused_without_harm(
    admin_client: FlaskClient, db: Database
) -> None:
    bulletin_id = create_bulletin(admin_client)
    response = admin_client.post(
        f"/admin/bulletins/{bulletin_id}/test",
        data=typed(admin_client, bulletin_id, addresses="x" * 50_000 + "\r\nBcc: a@b.c"),
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Nothing was sent" in section(response.get_data(as_text=True), "test-send")
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(QueuedMessage)) == 0


def test_a_test_of_a_locked_bulletin_still_goes_when_nothing_was_changed(
    admin_client: FlaskClient, db: Database
) -> None:
    bulletin_id = create_bulletin(admin_client)
    add_send(db, bulletin_id, "submit", "schedule")
    unchanged = typed(admin_client, bulletin_id, addresses="me@example.org")
    unchanged["body_markdown"] = (
        "Hello **partners**. Read [the draft plan](https://pcc.gov.uk/plan)."
    )
    response = admin_client.post(f"/admin/bulletins/{bulletin_id}/test", data=unchanged)
    assert response.status_code == 303
    changed = typed(admin_client, bulletin_id, subject="Changed", addresses="me@example.org")
    response = admin_client.post(f"/admin/bulletins/{bulletin_id}/test", data=changed)
    assert response.status_code == 409
    assert "Changed" in response.get_data(as_text=True)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(QueuedMessage)) == 1


def test_an_upload_over_the_request_limit_returns_the_form_with_the_limit(
    tmp_path: Path, db: Database
) -> None:
    from mailer.app import create_app

    # A tiny limit: 1 MB of attachments, 2 MB a request.
    app = create_app(
        make_config(tmp_path, db.url, mail={"max_attachments_mb": 1}, app={"max_request_mb": 2})
    )
    try:
        client = app.test_client()
        add_user(db, email="ed@example.org", role="editor")
        login(client, "ed@example.org")
        bulletin_id = create_bulletin(client)
        big = PDF + b"0" * (3 * 1024 * 1024)
        response = client.post(
            f"/admin/bulletins/{bulletin_id}/attachments",
            data=typed(
                client,
                bulletin_id,
                preheader="Typed before a huge file",
                title="The whole archive",
                file=(io.BytesIO(big), "archive.pdf"),
            ),
            content_type="multipart/form-data",
        )
        assert response.status_code == 413
        page = response.get_data(as_text=True)
        documents = section(page, "documents")
        assert "The file is 3 MB; the limit is 1 MB." in documents
        assert 'value="The whole archive"' in documents
        assert 'value="Typed before a huge file"' in page  # shown again, not lost
        assert 'data-unsaved="true"' in page
        assert "<h1>That upload is too large</h1>" not in page  # not the bare page
        # Unchecked (no CSRF check ran), so nothing was saved.
        assert stored(db, bulletin_id).preheader == "Closes on Sunday"

        # Over the attachment limit, under the request limit: the view says so.
        response = client.post(
            f"/admin/bulletins/{bulletin_id}/attachments",
            data=typed(client, bulletin_id, file=(io.BytesIO(PDF + b"0" * 1_600_000), "a.pdf")),
            content_type="multipart/form-data",
            follow_redirects=True,
        )
        assert "The file is 1.5 MB; the limit is 1 MB." in section(
            response.get_data(as_text=True), "documents"
        )
        assert attachments(db, bulletin_id) == 0
    finally:
        app.extensions["mailer.db"].dispose()


def test_a_note_shows_only_on_its_own_bulletin(admin_client: FlaskClient, db: Database) -> None:
    first, second = create_bulletin(admin_client), create_bulletin(admin_client)
    admin_client.post(
        f"/admin/bulletins/{first}/attachments",
        data=typed(admin_client, first, file=(io.BytesIO(b"not a pdf"), "plan.pdf")),
        content_type="multipart/form-data",
    )
    # Another bulletin's page, visited first, does not show it; its own page does.
    assert "does not look like a PDF" not in admin_client.get(
        f"/admin/bulletins/{second}"
    ).get_data(as_text=True)
    assert "does not look like a PDF" in section(
        admin_client.get(f"/admin/bulletins/{first}").get_data(as_text=True), "documents"
    )


def test_a_refused_test_says_nothing_was_sent_once(admin_client: FlaskClient, db: Database) -> None:
    bulletin_id = create_bulletin(admin_client)
    response = admin_client.post(
        f"/admin/bulletins/{bulletin_id}/test",
        data=typed(admin_client, bulletin_id, addresses="colleague@@example"),
        follow_redirects=True,
    )
    test_send = section(response.get_data(as_text=True), "test-send")
    assert "Nothing was sent. Check these addresses" in test_send
    assert "Not sent: Nothing was sent" not in test_send
