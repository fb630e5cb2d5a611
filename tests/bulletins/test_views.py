"""The bulletin pages as an editor uses them: compose, live preview, review, preview
as a contact, attachments, test sends through the outbox."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from contacts.models import Contact
from mailer.bulletins.models import Bulletin
from mailer.database import Database
from mailer.email_templates.models import KIND_LAUNCH, EmailTemplate
from tests.conftest import csrf_from

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
    assert "<strong>partners</strong>" in page  # the body as it reads
    assert "Before you send" in page
    assert "Nothing to look at" in page

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
