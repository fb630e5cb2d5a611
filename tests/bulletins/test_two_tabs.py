"""Two tabs (or two people) editing one bulletin: a form loaded before someone else's
save is refused (409) with the words as typed, rather than putting back the old ones."""

from __future__ import annotations

import io
import re

from flask.testing import FlaskClient

from mailer.database import Database
from tests.bulletins.test_typed_words import attachments, section, stored
from tests.bulletins.test_views import PDF, create_bulletin
from tests.conftest import csrf_from


def opened(client: FlaskClient, bulletin_id: int) -> dict[str, str]:
    """The compose form as a tab shows it when opened: its words and hidden fields."""
    page = client.get(f"/admin/bulletins/{bulletin_id}").get_data(as_text=True)
    loaded = re.search(r'name="loaded_at" value="([^"]*)"', page)
    assert loaded and loaded.group(1)
    return {
        "csrf_token": csrf_from(page),
        "loaded_at": loaded.group(1),
        "subject": "Stakeholder Special: the draft plan",
        "preheader": "Closes on Sunday",
        "body_markdown": "Hello **partners**. Read [the draft plan](https://pcc.gov.uk/plan).",
        "title": "",
        "addresses": "",
    }


CHANGED = "saved this bulletin at"


def test_a_tab_opened_earlier_cannot_put_back_the_old_subject(
    admin_client: FlaskClient, db: Database
) -> None:
    bulletin_id = create_bulletin(admin_client)
    tab_b = opened(admin_client, bulletin_id)
    tab_a = opened(admin_client, bulletin_id)
    saved = admin_client.post(
        f"/admin/bulletins/{bulletin_id}", data={**tab_a, "subject": "A new subject"}
    )
    assert saved.status_code == 302
    response = admin_client.post(
        f"/admin/bulletins/{bulletin_id}", data={**tab_b, "body_markdown": "Tab B's new words"}
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "error-summary" in page and CHANGED in page
    assert "since you opened it. Your words are below; copy what you need, then reload." in page
    assert re.search(r"Someone \([^)]+\) saved this bulletin at", page)
    assert "Tab B&#39;s new words" in page  # kept as typed
    assert 'data-unsaved="true"' in page
    # Nothing saved: tab A's subject stays, tab B's words are not in.
    after = stored(db, bulletin_id)
    assert after.subject == "A new subject"
    assert "Tab B" not in after.body_markdown
    # The refused page keeps the old version: saving again is refused until a reload.
    again = re.search(r'name="loaded_at" value="([^"]*)"', page)
    assert again and again.group(1) == tab_b["loaded_at"]
    assert admin_client.post(f"/admin/bulletins/{bulletin_id}", data=tab_b).status_code == 409
    # After a reload the tab saves.
    fresh = opened(admin_client, bulletin_id)
    ok = admin_client.post(
        f"/admin/bulletins/{bulletin_id}",
        data={**fresh, "subject": "A new subject", "body_markdown": "Tab B's new words"},
    )
    assert ok.status_code == 302
    assert stored(db, bulletin_id).body_markdown == "Tab B's new words"


def test_saving_twice_from_the_same_tab_is_refused_only_after_someone_else(
    admin_client: FlaskClient, db: Database
) -> None:
    bulletin_id = create_bulletin(admin_client)
    tab = opened(admin_client, bulletin_id)
    # The same unchanged form twice (a double click): nothing changed, nothing refused.
    assert admin_client.post(f"/admin/bulletins/{bulletin_id}", data=tab).status_code == 302
    assert admin_client.post(f"/admin/bulletins/{bulletin_id}", data=tab).status_code == 302


def test_attach_and_test_send_from_an_old_tab_do_nothing(
    admin_client: FlaskClient, db: Database
) -> None:
    bulletin_id = create_bulletin(admin_client)
    old = opened(admin_client, bulletin_id)
    newer = opened(admin_client, bulletin_id)
    admin_client.post(f"/admin/bulletins/{bulletin_id}", data={**newer, "subject": "Newer"})

    attach = admin_client.post(
        f"/admin/bulletins/{bulletin_id}/attachments",
        data={**old, "preheader": "Old tab", "file": (io.BytesIO(PDF), "plan.pdf")},
        content_type="multipart/form-data",
    )
    assert attach.status_code == 409
    page = attach.get_data(as_text=True)
    assert CHANGED in page and 'value="Old tab"' in page
    assert "Not attached: " in section(page, "documents")
    assert attachments(db, bulletin_id) == 0

    sent = admin_client.post(
        f"/admin/bulletins/{bulletin_id}/test",
        data={**old, "preheader": "Old tab", "addresses": "me@example.org"},
    )
    assert sent.status_code == 409
    assert "Not sent: " in section(sent.get_data(as_text=True), "test-send")
    after = stored(db, bulletin_id)
    assert after.subject == "Newer" and after.preheader == "Closes on Sunday"


def test_a_form_without_the_field_saves_as_before(admin_client: FlaskClient, db: Database) -> None:
    bulletin_id = create_bulletin(admin_client)
    old = opened(admin_client, bulletin_id)
    del old["loaded_at"]
    admin_client.post(
        f"/admin/bulletins/{bulletin_id}",
        data={**opened(admin_client, bulletin_id), "subject": "X"},
    )
    response = admin_client.post(f"/admin/bulletins/{bulletin_id}", data={**old, "subject": "Y"})
    assert response.status_code == 302
    assert stored(db, bulletin_id).subject == "Y"


def test_a_forged_version_is_refused_not_a_500(admin_client: FlaskClient, db: Database) -> None:
    bulletin_id = create_bulletin(admin_client)
    tab = opened(admin_client, bulletin_id)
    response = admin_client.post(
        f"/admin/bulletins/{bulletin_id}",
        data={**tab, "loaded_at": "not a date\r\n", "subject": "Forged"},
    )
    assert response.status_code == 409
    assert stored(db, bulletin_id).subject != "Forged"
