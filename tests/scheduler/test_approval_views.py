"""The two-person rule under editing, through the admin pages: an admin who rewrote an
editor's consultation cannot approve it; an edit of the launch text while it waits
returns it to draft, and an approval of the version read before is refused. The
approval page shows the version it approves. Both database backends."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mailer.accounts import roles
from mailer.audit.models import AuditEntry
from mailer.bulletins.models import Bulletin
from mailer.database import Database
from mailer.delivery.models import Send
from scheduler.models import Consultation
from tests.conftest import csrf_from
from tests.scheduler.audience import make_list
from tests.scheduler.test_consultation_views import (
    approve_as,
    as_user,
    create,
    form_for,
    post,
    version_on,
)


def launch_bulletin(db: Database, cid: int) -> int:
    with db.transaction() as session:
        return session.scalar(
            select(Send.bulletin_id).where(Send.consultation_id == cid, Send.slot == "launch")
        )


def edit_message(client: FlaskClient, bulletin_id: int, body: str) -> str:
    """Save the message's words in the bulletin editor; the page it lands on."""
    page = f"/admin/bulletins/{bulletin_id}"
    shown = client.get(page).get_data(as_text=True)
    with_words = {"body_markdown": body}
    return client.post(
        page,
        data={"csrf_token": csrf_from(shown), **_message_form(shown), **with_words},
        follow_redirects=True,
    ).get_data(as_text=True)


def _message_form(page: str) -> dict[str, str]:
    """The subject and template the editor shows, sent back as they are."""
    subject = re.search(r'name="subject"[^>]*value="([^"]*)"', page)
    template = re.search(r'<option value="(\d+)"[^>]*selected', page)
    return {
        "subject": html.unescape(subject.group(1)) if subject else "A subject",
        **({"template_id": template.group(1)} if template else {}),
    }


def state(db: Database, cid: int) -> str:
    with db.transaction() as session:
        return session.get(Consultation, cid).state


@pytest.mark.slow  # over a second: the fast loop leaves it to `make test`
def test_an_admin_who_rewrote_an_editors_consultation_cannot_approve_it(
    app: Flask, db: Database
) -> None:
    editor = as_user(app, db, "editor@example.org", roles.EDITOR)
    admin = as_user(app, db, "boss@example.org", roles.ADMIN)
    approver = as_user(app, db, "approver@example.org", roles.APPROVER)
    partners = make_list(db, [("a@example.org", None)])
    others = make_list(db, [("b@example.org", None)])
    cid = create(editor, partners, type="general")
    page = f"/admin/consultations/{cid}"
    edit = f"{page}/edit"
    rewritten = form_for(
        others, type="general", title="Another plan", survey_url="https://elsewhere.example.net/"
    )
    assert "Saved." in post(admin, edit, edit, **rewritten).get_data(as_text=True)
    edit_message(admin, launch_bulletin(db, cid), "Go to https://elsewhere.example.net/ now.")
    post(admin, f"{page}/submit", page)
    shown = admin.get(page).get_data(as_text=True)
    assert "Approve and schedule" not in shown
    assert "You (boss@example.org) changed this consultation" in shown
    refused = approve_as(admin, page).get_data(as_text=True)
    assert "another approver must approve it" in refused
    assert state(db, cid) == "awaiting_approval"
    # The approver's page lists who made it; the approval goes through.
    seen = approver.get(page).get_data(as_text=True)
    assert "editor@example.org: created" in seen and "boss@example.org: edited, submitted" in seen
    assert "Approved." in approve_as(approver, page).get_data(as_text=True)
    assert state(db, cid) == "scheduled"


@pytest.mark.slow  # over a second: the fast loop leaves it to `make test`
def test_a_launch_text_edit_while_waiting_returns_it_to_draft_and_the_old_version_is_refused(
    app: Flask, db: Database
) -> None:
    editor = as_user(app, db, "editor@example.org", roles.EDITOR)
    approver = as_user(app, db, "approver@example.org", roles.APPROVER)
    partners = make_list(db, [("a@example.org", None)])
    cid = create(editor, partners, type="general")
    page = f"/admin/consultations/{cid}"
    post(editor, f"{page}/submit", page)
    # The approver opens the page (and the preview); the version is on it.
    read_page = approver.get(page).get_data(as_text=True)
    read = version_on(read_page)
    assert len(read) == 64 and f'Version <code class="version">{read[:12]}</code>' in read_page
    bulletin = launch_bulletin(db, cid)
    assert "It is awaiting approval" in editor.get(f"/admin/bulletins/{bulletin}").get_data(
        as_text=True
    )
    told = edit_message(editor, bulletin, "Take part at https://evil.example.net/survey")
    assert "was awaiting approval, so this change returned it to draft" in told
    assert state(db, cid) == "draft"
    back = editor.get(page).get_data(as_text=True)
    assert "Back to draft" in back and "edited the launch message: words" in back
    # Approving the page read before, while it is back in draft, says why nothing happened.
    withdrawn = approve_as(approver, page, version=read).get_data(as_text=True)
    assert "Nothing was approved: this consultation went back to draft after you" in withdrawn
    assert "edited the launch message: words" in withdrawn
    # Submitted again, the version the approver read before is not what would go out.
    post(editor, f"{page}/submit", page)
    stale = approve_as(approver, page, version=read).get_data(as_text=True)
    assert "Nothing was approved: this consultation changed after you opened it" in stale
    assert state(db, cid) == "awaiting_approval"
    with db.transaction() as session:
        assert session.get(Bulletin, bulletin).body_markdown.endswith("evil.example.net/survey")
        assert session.scalar(select(Send.frozen).where(Send.bulletin_id == bulletin)) is None
    # A form that names no version approves nothing either.
    blank = approve_as(approver, page, version="").get_data(as_text=True)
    assert "Nothing was approved" in blank
    assert "Approved." in approve_as(approver, page).get_data(as_text=True)
    with db.transaction() as session:
        summary = session.scalars(
            select(AuditEntry.summary).where(AuditEntry.action == "consultation.approved")
        ).one()
        approved_hash = session.get(Consultation, cid).approved_hash
    assert approved_hash is not None and approved_hash[:12] in summary
    assert "from the admin; made by editor@example.org (created, submitted, edited)" in summary


def test_an_edit_of_its_details_while_waiting_says_it_returned_to_draft(
    app: Flask, db: Database
) -> None:
    editor = as_user(app, db, "editor@example.org", roles.EDITOR)
    approver = as_user(app, db, "approver@example.org", roles.APPROVER)
    partners = make_list(db, [("a@example.org", None)])
    cid = create(editor, partners, type="general")
    page = f"/admin/consultations/{cid}"
    post(editor, f"{page}/submit", page)
    read = version_on(approver.get(page).get_data(as_text=True))
    edit = f"{page}/edit"
    changed = form_for(partners, type="general", survey_url="https://evil.example.net/")
    saved = post(editor, edit, edit, confirmed="yes", **changed).get_data(as_text=True)
    assert "It was awaiting approval, so this change returned it to draft" in saved
    assert "edited its details: survey address" in saved
    post(editor, f"{page}/submit", page)
    stale = approve_as(approver, page, version=read).get_data(as_text=True)
    assert "Nothing was approved" in stale and state(db, cid) == "awaiting_approval"


@pytest.mark.slow  # over a second: the fast loop leaves it to `make test`
def test_a_template_saved_while_it_waits_returns_it_to_draft_and_bars_its_author(
    app: Flask, db: Database
) -> None:
    from mailer.email_templates import versions as template_versions

    editor = as_user(app, db, "editor@example.org", roles.EDITOR)
    admin = as_user(app, db, "boss@example.org", roles.ADMIN)
    approver = as_user(app, db, "approver@example.org", roles.APPROVER)
    partners = make_list(db, [("a@example.org", None)])
    cid = create(editor, partners, type="general")
    page = f"/admin/consultations/{cid}"
    post(editor, f"{page}/submit", page)
    bulletin = launch_bulletin(db, cid)
    with db.transaction() as session:
        template = session.get(Bulletin, bulletin).template
        current = template_versions.latest(template)
        path, parts = (
            f"/admin/templates/{template.id}",
            {
                "subject": current.subject,
                "preheader": current.preheader,
                "html": current.html + "\n<!-- a footer change -->",
                "text": current.text,
                "note": "footer",
            },
        )
    saved = post(admin, path, path, **parts).get_data(as_text=True)
    assert "was awaiting approval and one of its messages uses this template" in saved
    assert state(db, cid) == "draft"
    post(editor, f"{page}/submit", page)
    assert "another approver must approve it" in approve_as(admin, page).get_data(as_text=True)
    assert "Approved." in approve_as(approver, page).get_data(as_text=True)


def test_open_now_is_not_offered_to_the_author_of_the_approved_version(
    app: Flask, db: Database
) -> None:
    admin = as_user(app, db, "boss@example.org", roles.ADMIN)
    approver = as_user(app, db, "approver@example.org", roles.APPROVER)
    partners = make_list(db, [("a@example.org", None)])
    cid = create(admin, partners, type="general")
    page = f"/admin/consultations/{cid}"
    post(admin, f"{page}/submit", page)
    assert "Approved." in approve_as(approver, page).get_data(as_text=True)
    assert "Open now</button>" not in admin.get(page).get_data(as_text=True)
    assert "Open now</button>" in approver.get(page).get_data(as_text=True)


def test_changing_the_organisation_settings_returns_a_waiting_consultation_to_draft(
    app: Flask, db: Database
) -> None:
    """Through the Organisation page: the links every message shows changed after
    submission, so the consultation goes back to draft and the admin is told."""
    editor = as_user(app, db, "editor@example.org", roles.EDITOR)
    admin = as_user(app, db, "boss@example.org", roles.ADMIN)
    partners = make_list(db, [("a@example.org", None)])
    cid = create(editor, partners, type="general")
    page = f"/admin/consultations/{cid}"
    post(editor, f"{page}/submit", page)
    shown = admin.get("/admin/organisation/").get_data(as_text=True)
    values = {
        name: html.unescape(value)
        for name, value in re.findall(
            r'<input class="input" id="\w+" name="(\w+)" value="([^"]*)"', shown
        )
    }
    values["website"] = "https://evil.example.net/"
    told = post(admin, "/admin/organisation/", "/admin/organisation/", **values)
    assert "Organisation settings saved" in told.get_data(as_text=True)
    assert "was awaiting approval and its messages show these settings" in told.get_data(
        as_text=True
    )
    assert state(db, cid) == "draft"
