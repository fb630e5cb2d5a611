"""Editing templates in the admin: versions, checks that block use, restore, copy,
and frozen sends that later edits cannot change."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mailer.audit import actions
from mailer.audit.models import AuditEntry
from mailer.bulletins import messages
from mailer.bulletins.models import Bulletin
from mailer.database import Database
from mailer.email_templates.models import KIND_BULLETIN, KIND_LAUNCH, EmailTemplate
from tests.bulletins.test_views import create_bulletin
from tests.conftest import add_user, csrf_from, login


def template_id(db: Database, kind: str = KIND_BULLETIN) -> int:
    with db.transaction() as session:
        return session.scalar(select(EmailTemplate.id).where(EmailTemplate.kind == kind))


def save(client: FlaskClient, tid: int, **changes: str) -> str:
    page = client.get(f"/admin/templates/{tid}").get_data(as_text=True)

    def field(name: str) -> str:
        match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
        if match:
            return unescape(match.group(1))
        match = re.search(rf'name="{name}" value="([^"]*)"', page)
        return unescape(match.group(1)) if match else ""

    data = {name: field(name) for name in ("subject", "preheader", "html", "text")}
    data.update(changes)
    data["csrf_token"] = csrf_from(page)
    return client.post(f"/admin/templates/{tid}", data=data, follow_redirects=True).get_data(
        as_text=True
    )


def versions(db: Database, tid: int) -> list[tuple[int, str | None]]:
    with db.transaction() as session:
        return [(v.number, v.problem) for v in session.get(EmailTemplate, tid).versions]


def test_each_save_is_a_new_version_and_nothing_changed_saves_none(
    admin_client: FlaskClient, db: Database
) -> None:
    tid = template_id(db)
    assert "Nothing changed" in save(admin_client, tid)
    page = save(
        admin_client,
        tid,
        subject="{{ bulletin.subject }} | {{ org.name }}",
        note="Organisation in the subject",
    )
    assert "Saved as version 2" in page
    assert versions(db, tid) == [(1, None), (2, None)]
    with db.transaction() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == actions.TEMPLATE_VERSION_SAVED)
        ).one()
        assert "version 2" in entry.summary


def test_a_broken_version_is_kept_shown_with_its_line_and_blocks_use(
    admin_client: FlaskClient, db: Database
) -> None:
    tid = template_id(db)
    page = save(admin_client, tid, html="<p>{{ contact.name }}\n{% if %}</p>")
    assert "cannot be used until this is fixed: HTML body, line 2" in page
    assert "This template cannot be used" in page
    assert versions(db, tid)[-1][1].startswith("HTML body, line 2")

    bulletin_id = create_bulletin(admin_client)
    edit = admin_client.get(f"/admin/bulletins/{bulletin_id}").get_data(as_text=True)
    assert "This bulletin cannot be sent" in edit
    assert "HTML body, line 2" in edit

    # Restoring version 1 makes it usable again, as version 3.
    token = csrf_from(admin_client.get(f"/admin/templates/{tid}/versions/1").get_data(as_text=True))
    page = admin_client.post(
        f"/admin/templates/{tid}/versions/1/restore",
        data={"csrf_token": token},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Version 1 restored as version 3" in page
    assert versions(db, tid)[-1] == (3, None)


def test_sandbox_escapes_and_unknown_values_are_refused_with_a_reason(
    admin_client: FlaskClient, db: Database
) -> None:
    tid = template_id(db)
    page = save(admin_client, tid, text="{{ links.unsubscribe }} {{ ''.__class__.__mro__ }}")
    assert "cannot be used" in page and "Plain-text body, line 1" in page
    page = save(admin_client, tid, text="{{ links.unsubscribe }} {{ config }}")
    assert "unknown value &#39;config&#39;" in page or "unknown value 'config'" in page


def test_the_unsubscribe_link_is_required_in_both_bodies(
    admin_client: FlaskClient, db: Database
) -> None:
    tid = template_id(db)
    page = save(admin_client, tid, text="Dear {{ contact.name | fallback('colleague') }}")
    assert "Plain-text body: the unsubscribe link is missing" in page


def test_copy_keeps_the_original_and_refuses_a_taken_name(
    admin_client: FlaskClient, db: Database
) -> None:
    tid = template_id(db, KIND_LAUNCH)
    token = csrf_from(admin_client.get(f"/admin/templates/{tid}").get_data(as_text=True))
    page = admin_client.post(
        f"/admin/templates/{tid}/copy",
        data={"csrf_token": token, "name": "Launch, short"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Copied as" in page
    page = admin_client.post(
        f"/admin/templates/{tid}/copy",
        data={"csrf_token": token, "name": "launch, SHORT"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "There is already a template called" in page
    with db.transaction() as session:
        names = session.scalars(
            select(EmailTemplate.name).where(EmailTemplate.kind == KIND_LAUNCH)
        ).all()
    assert len(names) == 2


def test_approvers_may_look_but_not_edit(client: FlaskClient, db: Database) -> None:
    add_user(db, email="ap@example.org", role="approver")
    login(client, "ap@example.org")
    tid = template_id(db)
    page = client.get(f"/admin/templates/{tid}")
    assert page.status_code == 200 and "Save as a new version" not in page.get_data(as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    assert client.post(f"/admin/templates/{tid}", data={"csrf_token": token}).status_code == 403
    assert (
        client.post(f"/admin/templates/{tid}/copy", data={"csrf_token": token}).status_code == 403
    )
    assert client.get("/admin/bulletins/new").status_code == 403


def test_version_preview_is_served_for_a_sandboxed_frame(
    admin_client: FlaskClient, db: Database
) -> None:
    tid = template_id(db, KIND_LAUNCH)
    response = admin_client.get(f"/admin/templates/{tid}/versions/1/preview.html")
    assert response.status_code == 200
    assert "Draft Police and Crime Plan (example)" in response.get_data(as_text=True)
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_a_frozen_bulletin_is_not_changed_by_later_edits(
    admin_client: FlaskClient, db: Database, app: Flask
) -> None:
    bulletin_id = create_bulletin(admin_client)
    settings = messages.settings_from(app.config["MAILER"])
    now = datetime(2027, 7, 1, 9, tzinfo=UTC)
    with db.transaction() as session:
        frozen = messages.freeze(session, session.get(Bulletin, bulletin_id))
    stored = frozen.to_json()  # what a send keeps

    def html(f: messages.Frozen) -> str:
        prepared = messages.prepare_frozen(f, settings=settings, consultation=None, now=now)
        return prepared.html(messages.preview_recipient(settings, email="a@example.org"))

    before = html(frozen)
    tid = template_id(db)
    save(admin_client, tid, html=open_html(db, tid).replace("Dear", "Hello"))
    token = csrf_from(admin_client.get("/admin/organisation/").get_data(as_text=True))
    admin_client.post(
        "/admin/organisation/",
        data={
            "csrf_token": token,
            "name": "A renamed office",
            "colour": "#1d3a6e",
            "emergency": "999",
            "non_emergency": "101",
        },
    )
    edit = admin_client.get(f"/admin/bulletins/{bulletin_id}").get_data(as_text=True)
    admin_client.post(
        f"/admin/bulletins/{bulletin_id}",
        data={"csrf_token": csrf_from(edit), "subject": "Changed", "body_markdown": "Changed"},
    )

    assert html(messages.Frozen.from_json(stored)) == before
    with db.transaction() as session:
        now_html = html(messages.freeze(session, session.get(Bulletin, bulletin_id)))
    assert "Hello" in now_html and "A renamed office" in now_html and now_html != before


def open_html(db: Database, tid: int) -> str:
    with db.transaction() as session:
        return session.get(EmailTemplate, tid).versions[-1].html
