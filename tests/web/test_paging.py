"""Paging parameters out of range: the last page, or 400 when it is not a page number;
never a 500 (the database refuses an offset that does not fit in 64 bits)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from mailer.database import Database
from tests.scheduler.audience import make_list

HUGE = "99999999999999999999"


@pytest.fixture
def list_id(db: Database) -> int:
    return make_list(db, [(f"person{n}@example.org", None) for n in range(3)], name="Partners")


def paged(list_id: int) -> list[str]:
    return [
        "/admin/contacts/",
        "/admin/contacts/?q=person&status=active",
        f"/admin/lists/{list_id}",
        "/admin/suppressions/",
        "/admin/audit/",
        "/admin/outbox/",
    ]


def test_a_page_past_the_end_shows_the_last_page(admin_client: FlaskClient, list_id: int) -> None:
    for path in paged(list_id):
        joiner = "&" if "?" in path else "?"
        for page in (HUGE, "1000000", "7"):
            response = admin_client.get(f"{path}{joiner}page={page}")
            assert response.status_code == 200, (path, page)
    # The last page is the one with the rows on it.
    contacts = admin_client.get(f"/admin/contacts/?page={HUGE}").get_data(as_text=True)
    assert "person0@example.org" in contacts
    audit = admin_client.get(f"/admin/audit/?page={HUGE}").get_data(as_text=True)
    assert "Signed in" in audit or "signed in" in audit


def test_a_page_that_is_not_a_page_number_is_a_400(admin_client: FlaskClient, list_id: int) -> None:
    for path in paged(list_id):
        joiner = "&" if "?" in path else "?"
        for page in ("-1", "0", "abc", "1.5", "-" + HUGE, "\uff11"):
            response = admin_client.get(f"{path}{joiner}page={page}")
            assert response.status_code == 400, (path, page)
            assert "Something in that request was not right" in response.get_data(as_text=True)


def test_huge_ids_in_paths_and_filters_are_not_a_500(admin_client: FlaskClient) -> None:
    assert admin_client.get(f"/admin/contacts/{HUGE}").status_code == 404
    assert admin_client.get(f"/admin/lists/{HUGE}").status_code == 404
    assert admin_client.get(f"/admin/contacts/?list={HUGE}&type={HUGE}").status_code == 200
    assert admin_client.get(f"/admin/audit/?actor={HUGE}").status_code == 200
