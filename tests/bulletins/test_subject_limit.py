"""The subject has a limit in the form, said plainly; a long one already saved still
goes out folded (tests/rendering/test_long_headers.py)."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select

from mailer.bulletins import compose
from mailer.bulletins.models import Bulletin
from mailer.database import Database
from tests.conftest import csrf_from


def test_a_subject_over_the_limit_is_refused_with_what_to_do(
    admin_client: FlaskClient, db: Database
) -> None:
    assert compose.MAX_SUBJECT == 200
    page = admin_client.get("/admin/bulletins/new?kind=bulletin").get_data(as_text=True)
    assert 'name="subject"' in page and 'maxlength="200"' in page
    data = {"csrf_token": csrf_from(page), "body_markdown": "Hello.", "subject": "word " * 60}
    response = admin_client.post("/admin/bulletins/new?kind=bulletin", data=data)
    assert response.status_code == 400
    shown = response.get_data(as_text=True)
    assert "The subject is 299 characters long; use at most 200" in shown
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Bulletin)) == 0
    data["subject"] = "w" * 200
    assert admin_client.post("/admin/bulletins/new?kind=bulletin", data=data).status_code == 302
