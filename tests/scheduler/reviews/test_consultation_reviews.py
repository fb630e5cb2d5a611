"""A consultation's approval as a conversation, through the admin pages: sent back
with a comment the writer reads and is emailed, approvers emailed when it awaits them,
an approval that needs its confirmation and shows what changed since the last one,
and each way to misuse it. Both database backends."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mailer import humane_time
from mailer.accounts import roles
from mailer.audit import actions
from mailer.audit.models import AuditEntry
from mailer.database import Database
from scheduler.models import Consultation
from scheduler.reviews.models import APPROVED, SENT_BACK, SUBMITTED, ReviewEvent
from tests.conftest import add_user, csrf_from
from tests.scheduler.reviews.helpers import notices, review_events
from tests.scheduler.test_approval_views import edit_message, launch_bulletin, state
from tests.scheduler.test_consultation_views import approve_as, as_user, post, submitted, version_on

COMMENT = "Please add the closing date to the first paragraph.\nAnd name the survey."


def send_back(client: FlaskClient, page: str, comment: str = COMMENT) -> str:
    response = post(client, f"{page}/send-back", page, comment=comment)
    return html.unescape(response.get_data(as_text=True))


def test_an_approver_sends_it_back_and_the_writer_reads_why(app: Flask, db: Database) -> None:
    editor, approver, _partners, cid, page = submitted(app, db)
    # Submitting told the approver, not the editor who submitted it.
    (awaits,) = notices(db)
    assert awaits.to == "approver@example.org"
    assert awaits.subject == "Awaiting your approval: Draft Police and Crime Plan"
    assert f"/admin/consultations/{cid}" in awaits.text and awaits.stop_url

    said = send_back(approver, page)
    assert "Sent back to draft with your comment" in said
    assert state(db, cid) == "draft"
    writer_page = html.unescape(editor.get(page).get_data(as_text=True))
    assert "Sent back by approver@example.org" in writer_page
    assert "Please add the closing date to the first paragraph." in writer_page
    (_, told) = notices(db)
    assert told.to == "editor@example.org"
    assert told.subject == "Sent back: Draft Police and Crime Plan"
    assert "And name the survey." in told.text and "And name the survey." in told.html
    assert [(a, who) for a, who, _ in review_events(db)] == [
        (SUBMITTED, "editor@example.org"),
        (SENT_BACK, "approver@example.org"),
    ]
    with db.transaction() as session:
        entry = session.scalar(
            select(AuditEntry).where(AuditEntry.action == actions.REVIEW_SENT_BACK)
        )
        assert entry is not None and entry.target_id == str(cid)

    # Submitted again: the comment goes, the history keeps it.
    post(editor, f"{page}/submit", page)
    again = html.unescape(editor.get(page).get_data(as_text=True))
    assert "Sent back by" not in again and "Approval history (3)" in again
    assert "Please add the closing date" in again  # in the history


def test_a_writer_cannot_send_it_back(app: Flask, db: Database) -> None:
    editor, _approver, _partners, cid, page = submitted(app, db)
    token = csrf_from(editor.get(page).get_data(as_text=True))
    refused = editor.post(f"{page}/send-back", data={"csrf_token": token, "comment": "No."})
    assert refused.status_code == 403
    assert "Only approvers and admins may send it back." in refused.get_data(as_text=True)
    assert state(db, cid) == "awaiting_approval"
    assert [a for a, _, _ in review_events(db)] == [SUBMITTED]


def test_only_what_awaits_approval_is_sent_back_and_only_once(app: Flask, db: Database) -> None:
    _editor, approver, _partners, _cid, page = submitted(app, db)
    send_back(approver, page)
    twice = send_back(approver, page)
    assert "Only a consultation awaiting approval can be sent back; this one is draft." in twice
    assert [a for a, _, _ in review_events(db)] == [SUBMITTED, SENT_BACK]
    assert [n.subject.split(":")[0] for n in notices(db)] == ["Awaiting your approval", "Sent back"]


def test_a_send_back_needs_a_comment_of_a_readable_length(app: Flask, db: Database) -> None:
    _editor, approver, _partners, cid, page = submitted(app, db)
    assert "Write a comment for the writer" in send_back(approver, page, "   ")
    assert "keep it to 2,000 or fewer" in send_back(approver, page, "x" * 2001)
    assert state(db, cid) == "awaiting_approval"
    assert [a for a, _, _ in review_events(db)] == [SUBMITTED]


def test_an_approval_needs_its_confirmation_and_the_version_read(app: Flask, db: Database) -> None:
    _editor, approver, _partners, cid, page = submitted(app, db)
    shown = approver.get(page).get_data(as_text=True)
    assert "I have read the whole message" in shown and 'name="confirmed"' in shown
    assert "First approval: nothing to compare." in shown
    version = version_on(shown)
    unconfirmed = post(approver, f"{page}/approve", page, version=version)
    assert 'tick "I have read the whole message"' in html.unescape(
        unconfirmed.get_data(as_text=True)
    )
    assert state(db, cid) == "awaiting_approval"
    stale = approve_as(approver, page, version="0" * 64)
    assert "Nothing was approved: this consultation changed" in stale.get_data(as_text=True)
    assert state(db, cid) == "awaiting_approval"
    assert "Approved." in approve_as(approver, page).get_data(as_text=True)
    assert state(db, cid) == "scheduled"
    assert [a for a, _, _ in review_events(db)] == [SUBMITTED, APPROVED]
    # The writer is told it was approved.
    assert notices(db)[-1].to == "editor@example.org"
    assert notices(db)[-1].subject == "Approved: Draft Police and Crime Plan"


def test_the_next_approval_shows_what_changed_since_the_last(app: Flask, db: Database) -> None:
    editor, approver, _partners, cid, page = submitted(app, db)
    approve_as(approver, page)
    post(editor, f"{page}/return", page)
    edit_message(editor, launch_bulletin(db, cid), "A brand new paragraph about the plan.")
    post(editor, f"{page}/submit", page)
    shown = approver.get(page).get_data(as_text=True)
    assert "What changed since the last approval" in shown
    assert "First approval" not in shown
    assert (
        '<ins><span class="visually-hidden">added: </span>'
        "A brand new paragraph about the plan.</ins>" in shown
    )
    assert '<del><span class="visually-hidden">removed: </span>' in shown
    assert "Written by" in shown and "Submitted by" in shown


def _change_details(db: Database, cid: int, *, survey_url: str, closes_at: datetime) -> None:
    with db.transaction() as session:
        consultation = session.get(Consultation, cid)
        consultation.survey_url = survey_url
        consultation.closes_at = closes_at


def test_the_next_approval_shows_changed_details_not_nothing(app: Flask, db: Database) -> None:
    editor, approver, _partners, cid, page = submitted(app, db)
    approve_as(approver, page)
    post(editor, f"{page}/return", page)
    with db.transaction() as session:
        consultation = session.get(Consultation, cid)
        old_url, closes = consultation.survey_url, consultation.closes_at
    later = closes + timedelta(days=7)
    _change_details(db, cid, survey_url="https://example.org/new-survey", closes_at=later)
    post(editor, f"{page}/submit", page)
    shown = html.unescape(approver.get(page).get_data(as_text=True))
    assert "Nothing in the words" not in shown
    assert f"Survey address: {old_url} → https://example.org/new-survey" in shown
    with app.app_context():
        tz = app.config["MAILER"].app.tz
    assert f"Closes: {humane_time.when(closes, tz)} → {humane_time.when(later, tz)}" in shown


def test_an_older_approval_without_details_still_says_something_changed(
    app: Flask, db: Database
) -> None:
    editor, approver, _partners, cid, page = submitted(app, db)
    approve_as(approver, page)
    with db.transaction() as session:
        event = session.scalar(select(ReviewEvent).where(ReviewEvent.action == APPROVED))
        event.snapshot = {k: v for k, v in event.snapshot.items() if k != "details"}
    post(editor, f"{page}/return", page)
    with db.transaction() as session:
        closes = session.get(Consultation, cid).closes_at
    _change_details(
        db, cid, survey_url="https://example.org/new-survey", closes_at=closes + timedelta(days=1)
    )
    post(editor, f"{page}/submit", page)
    shown = approver.get(page).get_data(as_text=True)
    assert approver.get(page).status_code == 200
    assert "Nothing in the words" not in shown
    assert "this summary cannot show what" in shown


def test_approvers_who_turned_notices_off_or_wrote_it_are_not_emailed(
    app: Flask, db: Database
) -> None:
    quiet = add_user(db, email="quiet@example.org", role=roles.APPROVER)
    with db.transaction() as session:
        session.merge(quiet).notices_off = True
    add_user(db, email="gone@example.org", role=roles.ADMIN)
    with db.transaction() as session:
        from mailer.accounts.models import User

        session.scalar(select(User).where(User.email == "gone@example.org")).active = False
    submitted(app, db)
    assert [n.to for n in notices(db)] == ["approver@example.org"]


def test_my_account_turns_notices_off_and_on(app: Flask, db: Database) -> None:
    approver = as_user(app, db, "approver@example.org", roles.APPROVER)
    shown = approver.get("/admin/account/").get_data(as_text=True)
    assert "Emails about approvals" in shown and "Turn them off" in shown
    post(approver, "/admin/account/notices", "/admin/account/", notices="off")
    assert "Turn them on" in approver.get("/admin/account/").get_data(as_text=True)
    with db.transaction() as session:
        from mailer.accounts.models import User

        assert session.scalar(select(User).where(User.email == "approver@example.org")).notices_off
    post(approver, "/admin/account/notices", "/admin/account/", notices="on")
    assert "Turn them off" in approver.get("/admin/account/").get_data(as_text=True)


def test_the_audit_counts_the_sends_returned_in_plain_words(app: Flask, db: Database) -> None:
    editor, approver, _partners, cid, page = submitted(app, db)
    approve_as(approver, page)
    post(editor, f"{page}/return", page)
    with db.transaction() as session:
        summary = session.scalar(
            select(AuditEntry.summary).where(
                AuditEntry.action == actions.CONSULTATION_RETURNED,
                AuditEntry.target_id == str(cid),
            )
        )
    assert summary is not None and "send(s)" not in summary
    assert re.search(r"\b(1 send needs|[02-9]\d* sends need) approval again", summary), summary


def test_the_same_version_submitted_again_says_nothing_changed(app: Flask, db: Database) -> None:
    editor, approver, _partners, _cid, page = submitted(app, db)
    approve_as(approver, page)
    post(editor, f"{page}/return", page)
    post(editor, f"{page}/submit", page)
    shown = approver.get(page).get_data(as_text=True)
    assert "Nothing in the words, audience, timeline or details changed" in shown
    assert "this summary cannot show what" not in shown
