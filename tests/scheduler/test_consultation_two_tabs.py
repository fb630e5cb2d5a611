"""Two tabs editing one consultation: a form opened before someone else's save is
refused (409) with the words as typed; a form without the field saves as before."""

from __future__ import annotations

import re

from flask import Flask

from mailer.accounts import roles
from mailer.database import Database
from scheduler.models import Consultation
from tests.conftest import csrf_from
from tests.scheduler.audience import make_list
from tests.scheduler.test_consultation_views import as_user, create, form_for


def test_an_edit_form_opened_earlier_cannot_put_back_the_old_title(
    app: Flask, db: Database
) -> None:
    editor = as_user(app, db, "editor@example.org", roles.EDITOR)
    partners = make_list(db, [("a@example.org", None)])
    cid = create(editor, partners, type="general")
    edit = f"/admin/consultations/{cid}/edit"

    def opened() -> dict[str, object]:
        html = editor.get(edit).get_data(as_text=True)
        loaded = re.search(r'name="loaded_at" value="([^"]*)"', html)
        assert loaded and loaded.group(1)
        return {"csrf_token": csrf_from(html), "loaded_at": loaded.group(1)}

    old_tab, new_tab = opened(), opened()
    saved = editor.post(edit, data={**new_tab, **form_for(partners, type="general", title="New")})
    assert saved.status_code == 302
    refused = editor.post(
        edit,
        data={**old_tab, **form_for(partners, type="general", summary="Old tab's summary")},
    )
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert re.search(r"Someone \([^)]+\) saved this consultation at", page)
    assert "copy what you need, then reload." in page
    assert "Old tab&#39;s summary" in page  # kept as typed
    with db.transaction() as session:
        consultation = session.get(Consultation, cid)
        assert consultation.title == "New" and consultation.summary != "Old tab's summary"

    # Without the field (an older page, a script): saved as before.
    del old_tab["loaded_at"]
    ok = editor.post(edit, data={**old_tab, **form_for(partners, type="general", title="Again")})
    assert ok.status_code == 302
    with db.transaction() as session:
        assert session.get(Consultation, cid).title == "Again"
