"""The consultation pages as a comms officer and an approver use them: create with the
form, read the timeline, attach the draft plan, submit, approve (not one's own), edit
after approval, the evidence report and its CSV, the calendar."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from mailer.accounts import roles
from mailer.accounts.models import User
from mailer.audit.models import AuditEntry
from mailer.bulletins.models import Bulletin
from mailer.database import Database, utcnow
from mailer.delivery import sends, switch
from mailer.delivery.models import SEND_MISSED, Send
from scheduler import statutory
from scheduler.consultations import lifecycle
from scheduler.models import Consultation
from tests.conftest import add_user, csrf_from, login
from tests.scheduler.audience import make_list

REQUIRED = [statutory.CHIEF_CONSTABLE, statutory.PANEL, statutory.PUBLIC, statutory.VICTIMS]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def as_user(app: Flask, db: Database, email: str, role: str) -> FlaskClient:
    add_user(db, email=email, role=role)
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def form_for(list_id: int, **changes: object) -> dict[str, object]:
    soon = (utcnow() + timedelta(days=9)).date()
    values: dict[str, object] = {
        "title": "Draft Police and Crime Plan",
        "summary": "Tell us what matters.",
        "type": "plan_draft",
        "opens_date": soon.isoformat(),
        "opens_time": "09:00",
        "closes_date": (soon + timedelta(days=40)).isoformat(),
        "closes_time": "23:59",
        "survey_url": "https://survey.example.org/plan",
        "lists": [str(list_id)],
        "reminder_defaults": ["reminder:1209600:morning", "reminder:0:morning"],
        "reminders_extra": "36h",
        "late_joiners": "on",
        "launch_body": "Our draft plan is out. **Please respond.**",
    }
    values.update(changes)
    return values


def post(client: FlaskClient, path: str, page: str, **data: object):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=True)


def version_on(html: str) -> str:
    """The version the approve form names (empty when the page offers no approval)."""
    match = re.search(r'name="version" value="([0-9a-f]*)"', html)
    return match.group(1) if match else ""


def approve_as(client: FlaskClient, page: str, *, version: str | None = None):  # type: ignore[no-untyped-def]
    """Press "Approve and schedule" as the page shows it (or naming ``version``)."""
    html = client.get(page).get_data(as_text=True)
    return client.post(
        f"{page}/approve",
        data={
            "csrf_token": csrf_from(html),
            "version": version_on(html) if version is None else version,
            "confirmed": "yes",
        },
        follow_redirects=True,
    )


def create(client: FlaskClient, list_id: int, **changes: object) -> int:
    response = post(
        client,
        "/admin/consultations/new",
        "/admin/consultations/new",
        **form_for(list_id, **changes),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return int(response.request.path.rstrip("/").split("/")[-1])


def submitted(app: Flask, db: Database) -> tuple[FlaskClient, FlaskClient, int, int, str]:
    """An editor and an approver signed in, and the editor's general consultation to
    one partner, submitted: (editor, approver, list id, consultation id, its page)."""
    editor = as_user(app, db, "editor@example.org", roles.EDITOR)
    approver = as_user(app, db, "approver@example.org", roles.APPROVER)
    partners = make_list(db, [("a@example.org", None)])
    cid = create(editor, partners, type="general")
    page = f"/admin/consultations/{cid}"
    post(editor, f"{page}/submit", page)
    return editor, approver, partners, cid, page


def launch_of(session: Any, consultation_id: int) -> Send:
    return session.scalar(
        select(Send).where(Send.consultation_id == consultation_id, Send.slot == "launch")
    )


def test_an_editor_creates_a_consultation_and_sees_its_timeline(app: Flask, db: Database) -> None:
    editor = as_user(app, db, "editor@example.org", roles.EDITOR)
    partners = make_list(db, [("cc@example.org", statutory.CHIEF_CONSTABLE)])
    cid = create(editor, partners)
    page = editor.get(f"/admin/consultations/{cid}").get_data(as_text=True)
    for words in (
        "Draft Police and Crime Plan",
        "Launch",
        "Reminder: 14 days before the close",
        "Reminder: 36 hours before the close",
        "Reminder: the morning of the last day",
        "Close notice: the next working day",
        "Submit for approval",
        # The statutory check names what is missing.
        "No active recipient is a &#34;Member of the public&#34;",
    ):
        assert words in page, words
    with db.transaction() as session:
        consultation = session.get(Consultation, cid)
        launch = session.scalar(
            select(Send).where(Send.consultation_id == cid, Send.slot == "launch")
        )
        assert consultation.late_joiners is True
        bulletin_page = editor.get(f"/admin/bulletins/{launch.bulletin_id}").get_data(as_text=True)
    assert "Our draft plan is out." in bulletin_page
    listing = editor.get("/admin/consultations/").get_data(as_text=True)
    assert "Draft Police and Crime Plan" in listing and "Draft" in listing


def test_the_form_shows_what_is_wrong_and_keeps_what_was_typed(app: Flask, db: Database) -> None:
    editor = as_user(app, db, "editor@example.org", roles.EDITOR)
    partners = make_list(db, [("a@example.org", None)])
    past = (utcnow() - timedelta(days=3)).date().isoformat()
    response = post(
        editor,
        "/admin/consultations/new",
        "/admin/consultations/new",
        **form_for(partners, closes_date=past, survey_url="not a link", title="Kept title"),
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "has passed; choose a later one" in page
    assert "Kept title" in page
    response = post(
        editor,
        "/admin/consultations/new",
        "/admin/consultations/new",
        **form_for(partners, reminders_extra="soonish"),
    )
    assert response.status_code == 400
    assert "is not a time before the close" in response.get_data(as_text=True)
    with db.transaction() as session:
        assert session.scalars(select(Consultation)).all() == []


def test_what_the_form_cannot_read_and_what_the_rules_refuse_show_together(
    app: Flask, db: Database
) -> None:
    """One check: an unreadable date, an empty title and no audience at once."""
    editor = as_user(app, db, "editor@example.org", roles.EDITOR)
    partners = make_list(db, [("a@example.org", None)])
    form = form_for(partners, opens_date="31/02", title=" ")
    form.pop("lists")
    response = post(editor, "/admin/consultations/new", "/admin/consultations/new", **form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Give a date (and time) such as 14/03/2027 09:00." in page
    assert "Give the consultation a title." in page
    assert "Choose at least one list or organisation type to send to." in page


def test_submit_then_an_approver_other_than_the_author_approves(app: Flask, db: Database) -> None:
    editor = as_user(app, db, "editor@example.org", roles.EDITOR)
    partners = make_list(db, [("a@example.org", None)])
    cid = create(editor, partners, type="general")
    page = f"/admin/consultations/{cid}"
    # An editor cannot approve at all.
    assert approve_as(editor, page).status_code == 403
    submitted = post(editor, f"{page}/submit", page).get_data(as_text=True)
    assert "Submitted." in submitted and "Awaiting approval" in submitted

    approver = as_user(app, db, "approver@example.org", roles.APPROVER)
    seen = approver.get(page).get_data(as_text=True)
    assert "Approve and schedule" in seen
    approved = approve_as(approver, page).get_data(as_text=True)
    assert "Approved." in approved
    with db.transaction() as session:
        assert session.get(Consultation, cid).state == "scheduled"


def test_an_admin_who_wrote_it_is_told_another_must_approve(
    admin_client: FlaskClient, db: Database
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid = create(admin_client, partners, type="general")
    page = f"/admin/consultations/{cid}"
    post(admin_client, f"{page}/submit", page)
    shown = admin_client.get(page).get_data(as_text=True)
    assert "another approver must approve it" in shown
    assert "Approve and schedule" not in shown
    refused = approve_as(admin_client, page).get_data(as_text=True)
    assert "wrote this consultation, so another approver must approve it" in refused


def test_an_edit_after_approval_asks_before_returning_it_to_draft(app: Flask, db: Database) -> None:
    editor, approver, partners, cid, page = submitted(app, db)
    approve_as(approver, page)
    edit = f"{page}/edit"
    asked = post(editor, edit, edit, **form_for(partners, title="Renamed plan", type="general"))
    assert asked.status_code == 409
    text = asked.get_data(as_text=True)
    assert "Saving a change returns its" in text and 'name="confirmed" value="yes"' in text
    with db.transaction() as session:
        assert session.get(Consultation, cid).title == "Draft Police and Crime Plan"
    saved = post(
        editor,
        edit,
        edit,
        confirmed="yes",
        **form_for(partners, title="Renamed plan", type="general"),
    )
    assert "Saved." in saved.get_data(as_text=True)
    with db.transaction() as session:
        consultation = session.get(Consultation, cid)
        assert (consultation.title, consultation.state) == ("Renamed plan", "draft")


def test_the_draft_plan_is_attached_and_can_be_removed(
    admin_client: FlaskClient, db: Database
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid = create(admin_client, partners)
    page = f"/admin/consultations/{cid}"
    token = csrf_from(admin_client.get(page).get_data(as_text=True))
    added = admin_client.post(
        f"{page}/documents",
        data={
            "csrf_token": token,
            "title": "The draft plan",
            "document": (io.BytesIO(PDF), "plan.pdf"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Document attached." in added and "The draft plan (plan.pdf" in added
    refused = admin_client.post(
        f"{page}/documents",
        data={"csrf_token": token, "document": (io.BytesIO(b"MZ\x90\x00"), "plan.exe")},
        content_type="multipart/form-data",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "is not a type we send" in refused
    with db.transaction() as session:
        document = session.get(Consultation, cid).documents[0]
    removed = post(admin_client, f"{page}/documents/{document.id}/remove", page)
    assert "Document removed." in removed.get_data(as_text=True)


def test_the_evidence_report_names_every_required_audience(app: Flask, db: Database) -> None:
    editor = as_user(app, db, "editor@example.org", roles.EDITOR)
    approver = as_user(app, db, "approver@example.org", roles.APPROVER)
    partners = make_list(
        db,
        [
            ("cc@example.org", statutory.CHIEF_CONSTABLE),
            ("=cmd@example.org", statutory.PANEL),
            ("resident@example.org", statutory.PUBLIC),
        ],
    )
    cid = create(editor, partners)
    page = f"/admin/consultations/{cid}"
    post(editor, f"{page}/submit", page)
    approve_as(approver, page)
    with db.transaction() as session:
        launch = session.scalar(
            select(Send).where(Send.consultation_id == cid, Send.slot == "launch")
        )
        sends.make_due(session, launch, now=utcnow(), domain="example.org")
    report = editor.get(f"{page}/evidence").get_data(as_text=True)
    for audience in (
        "Chief Constable&#39;s office",
        "Police and Crime Panel",
        "Member of the public",
        "Victims&#39; service",
    ):
        assert audience in report, audience
    assert "No recipient of this kind was in the audience." in report  # victims
    assert "cc@example.org" in report
    rows = list(csv.reader(io.StringIO(editor.get(f"{page}/evidence.csv").get_data(as_text=True))))
    assert rows[0][:4] == ["required_audience", "name", "organisation", "email"]
    with db.transaction() as session:
        downloaded = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "consultation.evidence_exported")
        ).one()
        assert downloaded.target_id == str(cid) and "evidence report" in downloaded.summary
    audiences = {row[0] for row in rows[1:]}
    assert audiences == {
        "Chief Constable's office",
        "Police and Crime Panel",
        "Member of the public",
        "Victims' service",
    }
    # A launch row for the Chief Constable, queued; an address that looks like a formula
    # is neutralised for spreadsheets.
    assert rows[1][:5] == [
        "Chief Constable's office",
        "Person 0",
        "Northshire partner",
        "cc@example.org",
        "Launch",
    ]
    assert any(row[3] == "'=cmd@example.org" for row in rows)


def test_the_calendar_shows_each_message_on_its_day(
    admin_client: FlaskClient, db: Database
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid = create(admin_client, partners)
    with db.transaction() as session:
        launch = session.scalar(
            select(Send).where(Send.consultation_id == cid, Send.slot == "launch")
        )
        month = launch.due_at.strftime("%Y-%m")
    page = admin_client.get(f"/admin/consultations/calendar?month={month}").get_data(as_text=True)
    assert ">9am</time> Launch" in page
    assert "Draft Police and Crime Plan opens" in page
    assert admin_client.get("/admin/consultations/calendar?month=nonsense").status_code == 200


def test_a_missed_send_offers_send_now(app: Flask, db: Database) -> None:
    _editor, approver, _partners, cid, page = submitted(app, db)
    approve_as(approver, page)
    with db.transaction() as session:
        launch = launch_of(session, cid)
        session.execute(update(Send).where(Send.id == launch.id).values(state=SEND_MISSED))
    shown = approver.get(page).get_data(as_text=True)
    assert "Send now" in shown and "Missed" in shown
    done = post(approver, f"{page}/sends/{launch.id}/send-now", page).get_data(as_text=True)
    assert "It goes within a few seconds." in done
    with db.transaction() as session:
        again = session.get(Send, launch.id)
        assert again.state == "scheduled"
        assert abs((again.due_at - utcnow()).total_seconds()) < 60


def test_an_approver_can_open_an_approved_consultation_now(app: Flask, db: Database) -> None:
    editor, approver, _partners, cid, page = submitted(app, db)
    # Not before approval: nothing is frozen yet.
    early = post(approver, f"{page}/open-now", page).get_data(as_text=True)
    assert "Approve the consultation first" in early
    approve_as(approver, page)
    assert "Open now" not in editor.get(page).get_data(as_text=True)
    assert "Open now" in approver.get(page).get_data(as_text=True)
    refused = post(editor, f"{page}/open-now", page)
    assert refused.status_code == 403
    done = post(approver, f"{page}/open-now", page).get_data(as_text=True)
    assert "the launch goes within a few seconds" in done
    assert "Open now</button>" not in done
    with db.transaction() as session:
        consultation = session.get(Consultation, cid)
        assert consultation.phase(utcnow()) == "open"
        launch = launch_of(session, cid)
        assert launch.state == "scheduled"
        assert abs((launch.due_at - utcnow()).total_seconds()) < 60
    again = post(approver, f"{page}/open-now", page).get_data(as_text=True)
    assert "already open" in again


def test_a_message_on_an_approved_timeline_cannot_be_changed_under_the_approval(
    app: Flask, db: Database
) -> None:
    editor = as_user(app, db, "editor@example.org", roles.EDITOR)
    approver = as_user(app, db, "approver@example.org", roles.APPROVER)
    partners = make_list(db, [("a@example.org", None)])
    cid = create(editor, partners, type="general", title="Budget and precept 2027")
    with db.transaction() as session:
        bulletin_id = launch_of(session, cid).bulletin_id
    message = f"/admin/bulletins/{bulletin_id}"
    # While a draft, the message is edited like any bulletin, and previews show the
    # consultation itself rather than an example.
    shown = editor.get(message).get_data(as_text=True)
    assert "This is the <strong>launch</strong> of the consultation" in shown
    preview = editor.get(f"{message}/preview?view=text").get_data(as_text=True)
    assert "Budget and precept 2027" in preview
    page = f"/admin/consultations/{cid}"
    post(editor, f"{page}/submit", page)
    approve_as(approver, page)
    refused = post(
        editor,
        message,
        message,
        subject="Changed after approval",
        preheader="",
        body_markdown="New words",
    ).get_data(as_text=True)
    assert "was approved as it is" in refused
    with db.transaction() as session:
        assert (
            session.get(Bulletin, bulletin_id).subject == "Have your say: Budget and precept 2027"
        )


def test_the_public_page_offers_the_draft_plan_and_its_web_version_once_approved(
    admin_client: FlaskClient, app: Flask, db: Database
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid = create(admin_client, partners, type="general")
    page = f"/admin/consultations/{cid}"
    token = csrf_from(admin_client.get(page).get_data(as_text=True))

    def attach(name: str, alternative: str) -> str:
        return admin_client.post(
            f"{page}/documents",
            data={
                "csrf_token": token,
                "title": "The draft plan",
                "alternative_url": alternative,
                "document": (io.BytesIO(PDF), name),
            },
            content_type="multipart/form-data",
            follow_redirects=True,
        ).get_data(as_text=True)

    assert "The web version&#39;s address" in attach("plan.pdf", "javascript:alert(1)")
    assert "Document attached." in attach("plan.pdf", "https://pcc.example.org/plan.html")
    with db.transaction() as session:
        consultation = session.get(Consultation, cid)
        slug = consultation.slug
    public = app.test_client()
    # Not public while a draft: neither the page nor its document.
    assert public.get(f"/consultations/{slug}").status_code == 404
    with db.transaction() as session:
        consultation = session.get(Consultation, cid)
        admin = session.scalar(select(User).where(User.role == roles.ADMIN))
        lifecycle.submit(session, consultation, by=admin, now=utcnow())
        lifecycle.approve(
            session,
            consultation,
            by=admin,
            two_person=False,
            base_url="http://127.0.0.1:5000",
            now=utcnow(),
        )
    shown = public.get(f"/consultations/{slug}").get_data(as_text=True)
    assert 'href="https://pcc.example.org/plan.html">read it as a web page' in shown
    document = re.search(r'href="(/documents/[0-9a-f]{64}/plan.pdf)"', shown).group(1)
    response = public.get(document)
    assert response.status_code == 200 and response.data == PDF


def test_a_second_document_with_the_same_name_is_refused(
    admin_client: FlaskClient, db: Database
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid = create(admin_client, partners)
    page = f"/admin/consultations/{cid}"
    token = csrf_from(admin_client.get(page).get_data(as_text=True))

    def attach() -> str:
        return admin_client.post(
            f"{page}/documents",
            data={"csrf_token": token, "document": (io.BytesIO(PDF), "plan.pdf")},
            content_type="multipart/form-data",
            follow_redirects=True,
        ).get_data(as_text=True)

    assert "Document attached." in attach()
    assert "This consultation already has a file called plan.pdf." in attach()


def test_open_now_while_all_sending_is_stopped_says_the_launch_waits(
    app: Flask, db: Database
) -> None:
    _editor, approver, _partners, _cid, page = submitted(app, db)
    approve_as(approver, page)
    admin = add_user(db, email="incident@example.org", role=roles.ADMIN)
    with db.transaction() as session:
        switch.stop(session, by=session.get(User, admin.id), reason="Incident", now=utcnow())
    done = post(approver, f"{page}/open-now", page).get_data(as_text=True)
    assert "the launch waits: all sending is stopped" in done
    assert "within a few seconds" not in done
