"""The consultation form reports every problem in one round, listed at the top in the
form's order with a link to each field; attaching a document says what happened in the
Documents section and keeps what was typed there."""

from __future__ import annotations

import io
import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mailer.database import Database
from scheduler.models import Consultation, ConsultationDocument
from tests.conftest import add_user, csrf_from, login, make_config
from tests.scheduler.audience import make_list
from tests.scheduler.test_consultation_views import PDF, create, form_for, post


def summary_links(page: str) -> list[tuple[str, str]]:
    box = re.search(r'<div class="error-summary".*?</div>', page, re.S)
    assert box, "no error summary"
    return re.findall(r'<li><a href="#([a-z_]+)">(.*?)</a></li>', box.group(0))


def test_several_missing_fields_are_all_listed_in_one_response(
    admin_client: FlaskClient, db: Database
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    response = post(
        admin_client,
        "/admin/consultations/new",
        "/admin/consultations/new",
        **form_for(
            partners, title="", survey_url="", lists=[], opens_date="", reminders_extra="90d"
        ),
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    links = summary_links(page)
    # In the form's order, each linking to the field (a date links to its first input).
    assert [anchor for anchor, _ in links] == ["title", "opens_date", "survey_url", "lists"]
    assert "There are 4 problems" in page
    # The typed values are all still there.
    assert 'value="90d"' in page
    title = re.search(r'<input[^>]* id="title"[^>]*>', page)
    assert title and 'aria-describedby="title-error"' in title.group(0)
    assert 'aria-invalid="true"' in title.group(0)
    with db.transaction() as session:
        assert session.scalar(select(Consultation).limit(1)) is None


def test_the_timelines_problems_come_in_the_same_round_as_the_rest(
    admin_client: FlaskClient, db: Database
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    response = post(
        admin_client,
        "/admin/consultations/new",
        "/admin/consultations/new",
        **form_for(partners, title="", survey_url="", reminders_extra="90d"),
    )
    assert response.status_code == 400
    anchors = [anchor for anchor, _ in summary_links(response.get_data(as_text=True))]
    # Before: title and survey first, the reminder before the opening only once fixed.
    assert anchors == ["title", "survey_url", "reminders"]


def test_every_unreadable_reminder_is_named(admin_client: FlaskClient, db: Database) -> None:
    partners = make_list(db, [("a@example.org", None)])
    response = post(
        admin_client,
        "/admin/consultations/new",
        "/admin/consultations/new",
        **form_for(partners, reminders_extra="3x, 36h, 4y"),
    )
    assert response.status_code == 400
    message = dict(summary_links(response.get_data(as_text=True)))["reminders"]
    assert "&#39;3x&#39; and &#39;4y&#39; are not times" in message


def test_a_refused_document_keeps_its_title_and_address_and_is_said_in_its_section(
    admin_client: FlaskClient, db: Database
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid = create(admin_client, partners)
    page = f"/admin/consultations/{cid}"
    token = csrf_from(admin_client.get(page).get_data(as_text=True))
    response = admin_client.post(
        f"{page}/documents",
        data={
            "csrf_token": token,
            "title": "The draft plan",
            "alternative_url": "https://pcc.example.org/plan.html",
            "document": (io.BytesIO(b"not a pdf"), "plan.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{page}#documents")
    shown = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    documents = re.search(r'<section class="card" id="documents".*?</section>', shown, re.S)
    assert documents
    section = documents.group(0)
    assert "does not look like a PDF" in section and 'role="alert"' in section
    assert 'value="The draft plan"' in section
    assert 'value="https://pcc.example.org/plan.html"' in section
    # Once shown, gone: the next visit starts clean.
    again = admin_client.get(page).get_data(as_text=True)
    assert "does not look like a PDF" not in again


def test_another_role_cannot_attach_a_document(
    app: Flask, db: Database, admin_client: FlaskClient
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid = create(admin_client, partners)
    add_user(db, email="approver@example.org", role="approver")
    approver = app.test_client()
    login(approver, "approver@example.org")
    page = f"/admin/consultations/{cid}"
    token = csrf_from(approver.get(page).get_data(as_text=True))
    response = approver.post(
        f"{page}/documents",
        data={"csrf_token": token, "document": (io.BytesIO(PDF), "plan.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    with db.transaction() as session:
        assert session.scalar(select(ConsultationDocument).limit(1)) is None


def test_a_document_over_the_request_limit_returns_to_the_section(
    tmp_path: Path, db: Database
) -> None:
    from mailer.app import create_app

    app = create_app(
        make_config(tmp_path, db.url, mail={"max_attachments_mb": 1}, app={"max_request_mb": 2})
    )
    try:
        client = app.test_client()
        add_user(db, email="ed@example.org", role="editor")
        login(client, "ed@example.org")
        partners = make_list(db, [("a@example.org", None)])
        cid = create(client, partners)
        page = f"/admin/consultations/{cid}"
        token = csrf_from(client.get(page).get_data(as_text=True))
        response = client.post(
            f"{page}/documents",
            data={
                "csrf_token": token,
                "title": "Everything",
                "document": (io.BytesIO(PDF + b"0" * 3 * 1024 * 1024), "all.pdf"),
            },
            content_type="multipart/form-data",
            follow_redirects=True,
        )
        shown = response.get_data(as_text=True)
        assert "The file is 3 MB; the limit is 1 MB." in shown
        assert 'value="Everything"' in shown
        assert 'data-max-bytes="1048576"' in shown  # the browser checks it first too
    finally:
        app.extensions["mailer.db"].dispose()
