"""A CSV over the request limit comes back to the import form with every choice kept
(the lists, the new list's name, the lawful basis) and advice for a CSV, not for the
PDFs and pictures of an attachment."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from contacts.models import Contact, ContactList
from mailer.accounts import roles
from mailer.app import create_app
from mailer.database import Database
from tests.conftest import add_user, csrf_from, login, make_config

BIG = 2 * 1024 * 1024 + 1024  # over a request limit of 2 MB


@pytest.fixture
def small_app(tmp_path: Path, db: Database) -> Iterator[Flask]:
    app = create_app(
        make_config(tmp_path, db.url, mail={"max_attachments_mb": 1}, app={"max_request_mb": 2})
    )
    with db.transaction() as session:
        session.add_all([ContactList(name="Partners"), ContactList(name="Press")])
    yield app
    app.extensions["mailer.db"].dispose()


def _post_big(client: FlaskClient) -> tuple[int, str]:
    token = csrf_from(client.get("/admin/contacts/import").get_data(as_text=True))
    response = client.post(
        "/admin/contacts/import",
        data={
            "csrf_token": token,
            "lists": ["Press"],
            "new_list": "Spring <event>",
            "lawful_basis": "consent",
            "file": (io.BytesIO(b"email\r\n" + b"x" * BIG), "big.csv"),
        },
        content_type="multipart/form-data",
        headers={"Referer": "http://localhost/admin/contacts/import"},
    )
    return response.status_code, response.get_data(as_text=True)


def test_an_over_large_csv_comes_back_with_every_choice_kept(
    small_app: Flask, db: Database
) -> None:
    client = small_app.test_client()
    add_user(db, email="ed@example.org", role=roles.EDITOR)
    login(client, "ed@example.org")
    status, page = _post_big(client)
    assert status == 413
    assert "the limit is 2 MB. Split the file" in page
    assert "Split the file, or save it as CSV without unused columns." in page
    assert "PDF" not in page and "pictures" not in page
    assert 'value="Press" checked' in page and 'value="Partners">' in page
    assert 'value="Spring &lt;event&gt;"' in page
    assert "<option selected>consent</option>" in page
    with db.transaction() as session:  # nothing saved, no list made
        assert session.query(Contact).count() == 0
        assert session.query(ContactList).count() == 2


def test_someone_who_may_not_import_gets_the_plain_answer(small_app: Flask, db: Database) -> None:
    client = small_app.test_client()
    add_user(db, email="approver@example.org", role=roles.APPROVER)
    login(client, "approver@example.org")
    status, page = _post_big(client)
    assert status in (303, 413)
    assert "Split the file" not in page and "Spring" not in page


def test_a_signed_out_visitor_gets_no_form(small_app: Flask) -> None:
    client = small_app.test_client()
    response = client.post(
        "/admin/contacts/import",
        data={"new_list": "Spring", "file": (io.BytesIO(b"x" * BIG), "big.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code in (302, 413)  # to the sign-in page, or the plain answer
    assert "Split the file" not in response.get_data(as_text=True)
