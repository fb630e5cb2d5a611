"""The bulletin pages as an editor uses them: compose, live preview, review, preview
as a contact, attachments, test sends through the outbox."""

from __future__ import annotations

import re
from email import policy
from email.parser import BytesParser

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from contacts.audience import Audience
from contacts.models import Contact, ContactList
from mailer.accounts import roles
from mailer.accounts.models import User
from mailer.bulletins.models import Bulletin
from mailer.config import Config
from mailer.database import Database
from mailer.delivery.models import Delivery, QueuedMessage
from mailer.email_templates.models import KIND_LAUNCH, EmailTemplate
from tests.bulletins.helpers import NOW, add_send, make_bulletin
from tests.conftest import add_user, csrf_from, login
from tests.scheduler import plans
from tests.scheduler.audience import make_list

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _token(client: FlaskClient, path: str = "/admin/bulletins/") -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


def create_bulletin(client: FlaskClient, **fields: str) -> int:
    page = client.get(f"/admin/bulletins/new?kind={fields.get('kind', 'bulletin')}")
    assert page.status_code == 200
    data = {
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "subject": "Stakeholder Special: the draft plan",
        "preheader": "Closes on Sunday",
        "body_markdown": "Hello **partners**. Read [the draft plan](https://pcc.gov.uk/plan).",
        **fields,
    }
    response = client.post(f"/admin/bulletins/new?kind={fields.get('kind', 'bulletin')}", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def test_compose_preview_and_review(admin_client: FlaskClient, db: Database) -> None:
    bulletin_id = create_bulletin(admin_client)
    page = admin_client.get(f"/admin/bulletins/{bulletin_id}").get_data(as_text=True)
    assert 'id="composer"' in page and 'sandbox=""' in page  # the whole message, framed
    assert "Before you send" in page
    # Its words open "Hello partners" and the template greets too: one click to switch.
    assert "Your text starts with a greeting (&#34;Hello partners&#34;)" in page
    assert 'data-block-off="greeting"' in page

    token = csrf_from(page)
    live = admin_client.post(
        "/admin/bulletins/markdown",
        data={
            "body_markdown": "![](https://x.org/a.png) <script>x()</script> [here](http://localhost/)"
        },
        headers={"X-CSRFToken": token},
    ).get_json()
    assert "<script>" not in live["html"]
    assert any("no alt text" in w for w in live["warnings"])
    assert any("private or local" in w or "only your own network" in w for w in live["warnings"])
    assert any('says "here"' in w for w in live["warnings"])


def test_edit_errors_keep_what_was_typed(admin_client: FlaskClient, db: Database) -> None:
    bulletin_id = create_bulletin(admin_client)
    token = _token(admin_client, f"/admin/bulletins/{bulletin_id}")
    response = admin_client.post(
        f"/admin/bulletins/{bulletin_id}",
        data={"csrf_token": token, "subject": "  ", "body_markdown": "My careful words"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Write a subject" in page
    assert "My careful words" in page
    with db.transaction() as session:
        assert session.get(Bulletin, bulletin_id).subject == "Stakeholder Special: the draft plan"


def test_template_of_another_kind_is_refused(admin_client: FlaskClient, db: Database) -> None:
    with db.transaction() as session:
        launch_id = session.scalar(
            select(EmailTemplate.id).where(EmailTemplate.kind == KIND_LAUNCH)
        )
    page = admin_client.get("/admin/bulletins/new?kind=bulletin")
    response = admin_client.post(
        "/admin/bulletins/new?kind=bulletin",
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "subject": "Hi",
            "template_id": str(launch_id),
        },
    )
    assert response.status_code == 400
    assert "choose one made for a general bulletin" in response.get_data(as_text=True)


def test_preview_as_contact_text_and_source(admin_client: FlaskClient, db: Database) -> None:
    with db.transaction() as session:
        session.add(
            Contact(
                email="Zoe@Example.org",
                email_key="zoe@example.org",
                name="Zoë Ñúñez",
                organisation="Northshire <Council>",
            )
        )
    bulletin_id = create_bulletin(admin_client)
    page = admin_client.get(f"/admin/bulletins/{bulletin_id}/preview?as=zoe@example.org")
    text = page.get_data(as_text=True)
    assert "Shown as Zoë Ñúñez, Northshire &lt;Council&gt;" in text
    frame = admin_client.get(
        f"/admin/bulletins/{bulletin_id}/preview/frame.html?as=zoe@example.org"
    )
    assert "sandbox" in frame.headers["Content-Security-Policy"]
    assert "script-src" not in frame.headers["Content-Security-Policy"]
    assert frame.headers["X-Frame-Options"] == "SAMEORIGIN"
    html = frame.get_data(as_text=True)
    assert "Dear Zoë Ñúñez," in html and "sent to Zoe@Example.org" in html
    assert "/u/test" in html  # never a real unsubscribe token in a preview

    plain = admin_client.get(f"/admin/bulletins/{bulletin_id}/preview?view=text&as=zoe@example.org")
    assert "Hello partners" in plain.get_data(as_text=True) or "Hello" in plain.get_data(
        as_text=True
    )
    raw = admin_client.get(f"/admin/bulletins/{bulletin_id}/preview/message.eml?as=zoe@example.org")
    assert raw.mimetype == "message/rfc822"
    message = BytesParser(policy=policy.default).parsebytes(raw.data)
    assert message["To"].addresses[0].addr_spec == "Zoe@Example.org"
    assert b"\r\n" in raw.data and b"\n" not in raw.data.replace(b"\r\n", b"")

    unknown = admin_client.get(f"/admin/bulletins/{bulletin_id}/preview?as=nobody@example.org")
    assert "No contact has the address nobody@example.org" in unknown.get_data(as_text=True)


def test_attachments_checked_stored_once_and_limited(
    admin_client: FlaskClient, db: Database, app: Flask
) -> None:
    bulletin_id = create_bulletin(admin_client)
    url = f"/admin/bulletins/{bulletin_id}/attachments"
    token = _token(admin_client, f"/admin/bulletins/{bulletin_id}")

    def upload(name: str, data: bytes, title: str = "") -> str:
        import io

        response = admin_client.post(
            url,
            data={"csrf_token": token, "title": title, "file": (io.BytesIO(data), name)},
            content_type="multipart/form-data",
            follow_redirects=True,
        )
        return response.get_data(as_text=True)

    assert "is not a type we send" in upload("tool.exe", b"MZ\x90\x00")
    assert "does not look like a PDF" in upload("plan.pdf", b"MZ\x90\x00 not a pdf")
    page = upload("../../etc/Draft plan.pdf", PDF, "The draft plan (PDF)")
    assert "Attached Draft plan.pdf" in page
    assert "already has a file called Draft plan.pdf" in upload("Draft plan.pdf", PDF)
    # Same bytes under another name on another bulletin: stored once.
    other = create_bulletin(admin_client)
    admin_client.post(
        f"/admin/bulletins/{other}/attachments",
        data={"csrf_token": token, "file": (__import__("io").BytesIO(PDF), "copy.pdf")},
        content_type="multipart/form-data",
    )
    folder = app.config["MAILER"].instance_path / "files"
    stored = [p for p in folder.rglob("*") if p.is_file()]
    assert len(stored) == 1

    # The message carries the PDF as an attachment.
    raw = admin_client.get(f"/admin/bulletins/{bulletin_id}/preview/message.eml").data
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert message.get_content_type() == "multipart/mixed"
    parts = [p for p in message.iter_attachments()]
    assert parts[0].get_filename() == "Draft plan.pdf"
    assert parts[0].get_content() == PDF

    # Linked instead: no attachment, a public link that serves the file.
    edit = admin_client.get(f"/admin/bulletins/{bulletin_id}")
    admin_client.post(
        f"/admin/bulletins/{bulletin_id}",
        data={
            "csrf_token": csrf_from(edit.get_data(as_text=True)),
            "subject": "Stakeholder Special: the draft plan",
            "body_markdown": "Hello",
            "link_documents": "on",
        },
    )
    raw = admin_client.get(f"/admin/bulletins/{bulletin_id}/preview/message.eml").data
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    link = next(w for w in text.split() if "/documents/" in w)
    path = link[link.index("/documents/") :]
    served = admin_client.get(path)
    assert served.status_code == 200 and served.data == PDF
    assert admin_client.get("/documents/" + "0" * 64 + "/x.pdf").status_code == 404


@pytest.mark.slow  # over a second: the fast loop leaves it to `make test`
def test_attachment_total_is_limited(tmp_path, db: Database) -> None:
    from mailer.app import create_app
    from tests.conftest import add_user, login, make_config

    app = create_app(make_config(tmp_path, db.url, mail={"max_attachments_mb": 1}))
    client = app.test_client()
    add_user(db, email="ed@example.org", role="editor")
    login(client, "ed@example.org")
    bulletin_id = create_bulletin(client)
    token = _token(client, f"/admin/bulletins/{bulletin_id}")
    big = PDF + b"0" * (700 * 1024)
    import io

    for name in ("a.pdf", "b.pdf"):
        page = client.post(
            f"/admin/bulletins/{bulletin_id}/attachments",
            data={"csrf_token": token, "file": (io.BytesIO(big + name.encode()), name)},
            content_type="multipart/form-data",
            follow_redirects=True,
        ).get_data(as_text=True)
    assert "over the limit of 1.0 MB" in page
    assert "link to the documents instead" in page
    with db.transaction() as session:
        assert len(session.get(Bulletin, bulletin_id).attachments) == 1
    app.extensions["mailer.db"].dispose()


# --- the bulletins list, reuse, and bulletins about a consultation ---------------------


def _rows(client: FlaskClient, query: str = "") -> list[str]:
    """The subjects the list shows, in order."""
    response = client.get(f"/admin/bulletins/{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    return re.findall(r'<th scope="row"><a href="/admin/bulletins/\d+">([^<]*)</a>', body)


def _consultation(db: Database, config: Config, author: User) -> int:
    partners = make_list(db, [("a@example.org", None)], name="Partners")
    cid, _warnings = plans.create(db, config, author, plans.details(partners))
    return cid


def _deliveries(db: Database, send_id: int, **states: int) -> None:
    with db.transaction() as session:
        for state, number in states.items():
            for n in range(number):
                session.add(
                    Delivery(
                        send_id=send_id,
                        address=f"{state}{n}@example.org",
                        state=state,
                        message_id=f"<{send_id}.{state}.{n}@example.org>",
                    )
                )


def test_the_bulletins_list_shows_status_audience_and_how_it_went_with_filters(
    admin_client: FlaskClient, db: Database, config: Config, admin_user: User
) -> None:
    cid = _consultation(db, config, admin_user)
    make_bulletin(db, admin_user, attach=False, subject="March update")
    youth = make_bulletin(db, admin_user, attach=False, subject="Youth forum news")
    panel = make_list(db, [], name="Panel")
    with db.transaction() as session:
        session.add(Contact(email="y@example.org", email_key="y@example.org", tags="youth"))
        partners = session.scalar(select(ContactList.id).where(ContactList.name == "Partners"))
    first = add_send(db, youth, "submit", "schedule", "fire", "finish")
    latest = add_send(
        db,
        youth,
        "submit",
        "schedule",
        "fire",
        "finish",
        audience_of=Audience.of(lists=[partners], tags=["youth"], exclude_lists=[panel]),
    )
    _deliveries(db, first, sent=5)
    _deliveries(db, latest, sent=2, failed=1, skipped=1)
    about = make_bulletin(
        db, admin_user, attach=False, subject="About the plan", consultation_id=cid
    )
    add_send(db, about, "submit")
    old = make_bulletin(db, admin_user, attach=False, subject="Old news")
    with db.transaction() as session:
        session.get(Bulletin, old).archived_at = NOW

    page = admin_client.get("/admin/bulletins/").get_data(as_text=True)
    assert "Lists: Partners; tags: youth; leaving out: Panel" in page
    assert "2 sent, 1 failed, 1 skipped" in page  # the latest send, not the first
    assert "2 sends" in page
    assert "Awaiting approval" in page
    assert f'href="/admin/consultations/{cid}">Draft Police and Crime Plan 2027-2031</a>' in page
    everyday = _rows(admin_client)
    assert {"March update", "Youth forum news", "About the plan"} <= set(everyday)
    assert "Old news" not in everyday

    assert _rows(admin_client, "?status=sent") == ["Youth forum news"]
    assert _rows(admin_client, "?status=awaiting") == ["About the plan"]
    assert "March update" in _rows(admin_client, "?status=draft")
    assert "Youth forum news" not in _rows(admin_client, "?status=draft")
    assert _rows(admin_client, "?q=FORUM") == ["Youth forum news"]
    assert _rows(admin_client, "?q=100%25") == []  # a % is searched for, not a wildcard
    about_it = _rows(admin_client, f"?consultation={cid}")
    assert "About the plan" in about_it and "March update" not in about_it
    # The consultation's own timeline messages are about it too.
    assert "Have your say: Draft Police and Crime Plan 2027-2031" in about_it
    assert _rows(admin_client, "?kind=launch") == [
        "Have your say: Draft Police and Crime Plan 2027-2031"
    ]
    assert "Old news" in _rows(admin_client, "?archived=on")
    assert _rows(admin_client, "?status=archived") == ["Old news"]
    for bad in ("?status=lost", "?kind=poem", "?consultation=abc", "?page=0"):
        assert admin_client.get(f"/admin/bulletins/{bad}").status_code == 400, bad


def test_the_bulletins_list_pages_in_a_fixed_number_of_queries(
    admin_client: FlaskClient, db: Database, admin_user: User
) -> None:
    def queries(path: str) -> int:
        seen: list[str] = []

        def note(*args: object) -> None:
            seen.append(str(args[2]))

        event.listen(db.engine, "before_cursor_execute", note)
        try:
            assert admin_client.get(path).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", note)
        return len(seen)

    for n in range(3):
        sent = add_send(db, make_bulletin(db, admin_user, attach=False, subject=f"B{n}"), "submit")
        del sent
    few = queries("/admin/bulletins/")
    for n in range(3, 55):
        bulletin = make_bulletin(db, admin_user, attach=False, subject=f"B{n}")
        _deliveries(db, add_send(db, bulletin, "submit", "schedule", "fire"), sent=1)
    assert queries("/admin/bulletins/") == few  # no query per row
    page = admin_client.get("/admin/bulletins/").get_data(as_text=True)
    assert "55 bulletins, page 1 of 2" in page
    assert len(_rows(admin_client)) == 50
    assert len(_rows(admin_client, "?page=2")) == 5
    assert len(_rows(admin_client, "?page=99999999999999999999")) == 5  # the last page
    assert 'href="/admin/bulletins/?page=2&amp;q=B"' in admin_client.get(
        "/admin/bulletins/?q=B"
    ).get_data(as_text=True)


def test_copy_archive_and_delete_need_an_editor_and_a_token(
    client: FlaskClient, db: Database
) -> None:
    editor = add_user(db, email="editor@example.org", role=roles.EDITOR)
    add_user(db, email="approver@example.org", role=roles.APPROVER)
    draft = make_bulletin(db, editor, subject="A draft")
    sent = make_bulletin(db, editor, attach=False, subject="Sent in March")
    add_send(db, sent, "submit", "schedule", "fire", "finish")

    login(client, "approver@example.org")
    token = _token(client, f"/admin/bulletins/{draft}")
    for action in ("copy", "archive", "unarchive", "delete"):
        response = client.post(f"/admin/bulletins/{draft}/{action}", data={"csrf_token": token})
        assert response.status_code == 403, action
    assert client.get(f"/admin/bulletins/{draft}/delete").status_code == 403
    client.post("/logout", data={"csrf_token": token})

    login(client, "editor@example.org")
    assert client.post(f"/admin/bulletins/{draft}/copy").status_code == 400  # no token
    page = client.get(f"/admin/bulletins/{sent}").get_data(as_text=True)
    assert 'id="reuse"' in page and "Copy as a new draft" in page
    assert "Cannot be deleted: It was sent; archive it instead." in page
    token = csrf_from(page)
    response = client.post(f"/admin/bulletins/{sent}/copy", data={"csrf_token": token})
    assert response.status_code == 302
    copy_id = int(response.headers["Location"].rsplit("/", 1)[1])
    copied = client.get(f"/admin/bulletins/{copy_id}").get_data(as_text=True)
    assert "a new draft copied from" in copied and "Sent in March" in copied
    assert "Delete this draft" in copied

    refused = client.get(f"/admin/bulletins/{sent}/delete", follow_redirects=True)
    assert "Not deleted. It was sent; archive it instead." in refused.get_data(as_text=True)
    client.post(f"/admin/bulletins/{sent}/delete", data={"csrf_token": token})
    archived = client.post(
        f"/admin/bulletins/{sent}/archive", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Archived:" in archived and "Bring back from the archive" in archived
    assert _rows(client).count("Sent in March") == 1  # the copy, not the archived one
    client.post(f"/admin/bulletins/{sent}/unarchive", data={"csrf_token": token})
    assert _rows(client).count("Sent in March") == 2

    confirm = client.get(f"/admin/bulletins/{draft}/delete")
    assert confirm.status_code == 200
    assert "Delete the draft &#34;A draft&#34;?" in confirm.get_data(
        as_text=True
    ) or 'Delete the draft "A draft"?' in confirm.get_data(as_text=True)
    response = client.post(f"/admin/bulletins/{draft}/delete", data={"csrf_token": token})
    assert response.status_code == 302
    with db.transaction() as session:
        assert session.get(Bulletin, draft) is None
        assert session.get(Bulletin, sent) is not None
        assert session.get(Bulletin, copy_id).copied_from_id == sent


def test_a_bulletin_about_a_consultation_shows_the_real_one_in_preview_and_test(
    admin_client: FlaskClient, db: Database, config: Config, admin_user: User
) -> None:
    cid = _consultation(db, config, admin_user)
    example = create_bulletin(admin_client, kind="launch", subject="Have your say")
    frame = admin_client.get(f"/admin/bulletins/{example}/preview/frame.html")
    shown = frame.get_data(as_text=True)
    # About none yet: no example consultation, no invented closing date.
    assert "(example)" not in shown and "closes at" not in shown
    assert "choose" in shown  # the consultation's facts show once it is chosen

    bulletin_id = create_bulletin(
        admin_client, kind="launch", subject="Have your say", consultation_id=str(cid)
    )
    page = admin_client.get(f"/admin/bulletins/{bulletin_id}").get_data(as_text=True)
    assert f'<option value="{cid}" selected>Draft Police and Crime Plan 2027-2031' in page
    assert "carries that consultation's documents" in page
    html = admin_client.get(f"/admin/bulletins/{bulletin_id}/preview/frame.html").get_data(
        as_text=True
    )
    assert "Draft Police and Crime Plan 2027-2031" in html
    assert "(example)" not in html and "An example consultation" not in html
    assert "https://survey.example.org/plan" in html

    token = _token(admin_client, f"/admin/bulletins/{bulletin_id}")
    admin_client.post(
        f"/admin/bulletins/{bulletin_id}/test",
        data={"csrf_token": token, "addresses": "me@example.org"},
    )
    with db.transaction() as session:
        data = session.scalars(
            select(QueuedMessage.data).where(QueuedMessage.bulletin_id == bulletin_id)
        ).one()
    message = BytesParser(policy=policy.default).parsebytes(data)
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Tell us what matters for policing in Northshire." in text  # its summary
    assert "/consultations/draft-police-and-crime-plan-2027-2031" in text  # its page
    assert "closes at 23:59 on Sunday 28 February 2027" in text
    assert "An example consultation" not in text

    # About none again; a consultation not in the list is refused with a sentence.
    response = admin_client.post(
        f"/admin/bulletins/{bulletin_id}",
        data={"csrf_token": token, "subject": "Have your say", "consultation_id": "999999"},
    )
    assert response.status_code == 400
    assert "Choose a consultation from the list." in response.get_data(as_text=True)
    admin_client.post(
        f"/admin/bulletins/{bulletin_id}",
        data={"csrf_token": token, "subject": "Have your say", "consultation_id": ""},
    )
    with db.transaction() as session:
        assert session.get(Bulletin, bulletin_id).consultation_id is None


def test_a_template_that_no_longer_exists_is_named_not_replaced(admin_client) -> None:  # type: ignore[no-untyped-def]
    page = admin_client.get("/admin/bulletins/new?kind=bulletin").get_data(as_text=True)
    answer = admin_client.post(
        "/admin/bulletins/new?kind=bulletin",
        data={
            "csrf_token": csrf_from(page),
            "template_id": "999",
            "subject": "Stakeholder Special",
            "body_markdown": "Hello.",
        },
    )
    assert answer.status_code == 400
    assert "That template no longer exists" in answer.get_data(as_text=True)


def test_before_you_send_does_not_repeat_the_composers_list(
    admin_client: FlaskClient, db: Database
) -> None:
    bulletin_id = create_bulletin(
        admin_client, body_markdown="Hello partners.\n\n![](https://www.example.org/chart.png)"
    )
    page = admin_client.get(f"/admin/bulletins/{bulletin_id}").get_data(as_text=True)
    review = re.search(r'<section class="review.*?</section>', page, re.S)
    assert review
    composer = re.search(r'<div id="body-warnings-box".*?</div>', page, re.S)
    assert composer and "has no alt text" in composer.group(0)
    assert "Your text starts with a greeting" in composer.group(0)
    assert 'data-block-off="greeting"' in composer.group(0)
    # Each shown once, in the composer; the review points there. (data-key: what the
    # live check compares with, not shown.)
    shown = re.sub(r' data-key="[^"]*"', "", page)
    assert shown.count("has no alt text") == 1
    assert shown.count("Your text starts with a greeting") == 1
    assert 'href="#body-warnings-box"' in review.group(0)
    assert "Each message is about" in review.group(0)
