"""A bulletin sent on its own, reviewed as a conversation: sent back with a comment
the writer reads and is emailed, refused to a writer and when not awaiting approval,
approved with its confirmation, and a later send of the same bulletin compared with
the approved one. Both database backends."""

from __future__ import annotations

import html

from flask import Flask
from flask.testing import FlaskClient

from mailer.accounts import roles
from mailer.database import Database
from mailer.delivery.models import SEND_AWAITING_APPROVAL, SEND_DRAFT, SEND_SCHEDULED
from scheduler.reviews.models import APPROVED, SENT_BACK, SUBMITTED
from tests.conftest import csrf_from
from tests.scheduler.audience import make_list
from tests.scheduler.bulletin_sends.helpers import write
from tests.scheduler.reviews.helpers import notices, review_events
from tests.scheduler.test_bulletin_send_views import page_of, sends, submit_form, user
from tests.scheduler.test_consultation_views import as_user, version_on


def send_back(client: FlaskClient, show: str, comment: str) -> str:
    token = csrf_from(page_of(client, show))
    response = client.post(
        f"{show}/send-back", data={"csrf_token": token, "comment": comment}, follow_redirects=True
    )
    return html.unescape(response.get_data(as_text=True))


def approve(client: FlaskClient, show: str) -> str:
    shown = page_of(client, show)
    data = {"csrf_token": csrf_from(shown), "version": version_on(shown), "confirmed": "yes"}
    client.post(f"{show}/approve", data=data)
    return page_of(client, show)


def test_a_bulletin_send_is_sent_back_then_approved_and_the_next_compared(
    app: Flask, db: Database
) -> None:
    editor = as_user(app, db, "editor@example.org", roles.EDITOR)
    approver = as_user(app, db, "approver@example.org", roles.APPROVER)
    partners = make_list(db, [("a@example.org", None)], name="Partners")
    councils = make_list(db, [("c@example.org", None)], name="Councils")
    bid = write(db, user(db, "editor@example.org"))
    submit_form(editor, bid, list_ids=str(partners), when="approved")
    (send,) = sends(db, bid)
    show = f"/admin/bulletins/{bid}/sends/{send.id}"
    assert [n.to for n in notices(db)] == ["approver@example.org"]
    shown = page_of(approver, show)
    assert "First approval: nothing to compare." in shown and "Submitted by" in shown

    # The writer may not send it back; the approver may, once.
    token = csrf_from(page_of(editor, show))
    refused = editor.post(f"{show}/send-back", data={"csrf_token": token, "comment": "x"})
    assert refused.status_code == 403
    assert "Only approvers and admins may send it back." in refused.get_data(as_text=True)
    said = send_back(approver, show, "The subject should name the month.")
    assert "Sent back to draft with your comment" in said
    assert sends(db, bid)[0].state == SEND_DRAFT
    mine = page_of(editor, show)
    assert "Sent back by approver@example.org" in mine
    assert "The subject should name the month." in mine
    again = send_back(approver, show, "The subject should name the month.")
    assert "Only a send awaiting approval can be sent back; this one is draft." in again
    told = notices(db)[-1]
    assert told.to == "editor@example.org" and "name the month" in told.text

    # Submitted again and approved: the writer is told.
    submit_form(editor, bid, list_ids=str(partners), when="approved")
    assert sends(db, bid)[0].state == SEND_AWAITING_APPROVAL
    assert "Scheduled" in approve(approver, show)
    assert sends(db, bid)[0].state == SEND_SCHEDULED
    assert notices(db)[-1].subject == "Approved: Stakeholder Special: March"
    assert [a for a, _, _ in review_events(db)] == [SUBMITTED, SENT_BACK, SUBMITTED, APPROVED]

    # A second send of the same words, to another list: compared with the first.
    submit_form(editor, bid, list_ids=str(councils), when="approved")
    second = sends(db, bid)[-1]
    shown = page_of(approver, f"/admin/bulletins/{bid}/sends/{second.id}")
    assert "What changed since the last approval" in shown
    assert "Added List: Councils" in shown and "Removed List: Partners" in shown


def test_the_writer_reads_a_send_back_where_they_work_and_submits_again(
    app: Flask, db: Database
) -> None:
    editor = as_user(app, db, "editor@example.org", roles.EDITOR)
    approver = as_user(app, db, "approver@example.org", roles.APPROVER)
    partners = make_list(db, [("a@example.org", None)], name="Partners")
    bid = write(db, user(db, "editor@example.org"))
    edit = f"/admin/bulletins/{bid}"
    submit_form(editor, bid, list_ids=str(partners), when="at", day="2027-03-09", clock="10:00")
    (send,) = sends(db, bid)
    assert "Sent back by" not in page_of(editor, edit)
    send_back(approver, f"{edit}/sends/{send.id}", "Name the month.\nAnd <the> date.")

    shown = editor.get(edit).get_data(as_text=True)
    top = shown[shown.index("<h1") : shown.index('id="reuse"')]
    assert "Sent back by approver@example.org on" in top
    assert "Name the month.\nAnd &lt;the&gt; date." in top
    again = f"/admin/bulletins/{bid}/send?again={send.id}"
    assert f'href="{html.escape(again)}"' in top and "Submit again" in top
    form = page_of(editor, again)
    assert f'name="list_ids" value="{partners}" checked' in form
    assert 'value="2027-03-09"' in form and 'value="10:00"' in form
    assert 'id="when-at" name="when" value="at" checked' in form

    listed = page_of(editor, "/admin/bulletins/")
    assert "Sent back" in listed and "read the comment" in listed
    mine = page_of(editor, "/admin/")
    assert "Sent back to you" in mine and "Name the month." in mine
    assert "Sent back to you" not in page_of(approver, "/admin/")

    # Submitted again: the panel, the note and the dashboard item go.
    submit_form(editor, bid, list_ids=str(partners), when="at", day="2027-03-09", clock="10:00")
    assert [s.state for s in sends(db, bid)] == [SEND_AWAITING_APPROVAL]
    assert "Sent back by" not in page_of(editor, edit)
    assert "read the comment" not in page_of(editor, "/admin/bulletins/")
    assert "Sent back to you" not in page_of(editor, "/admin/")


def test_submit_again_ignores_a_send_of_another_bulletin(app: Flask, db: Database) -> None:
    editor = as_user(app, db, "editor@example.org", roles.EDITOR)
    approver = as_user(app, db, "approver@example.org", roles.APPROVER)
    partners = make_list(db, [("a@example.org", None)], name="Partners")
    bid = write(db, user(db, "editor@example.org"))
    other = write(db, user(db, "editor@example.org"))
    submit_form(editor, bid, list_ids=str(partners), when="approved")
    (send,) = sends(db, bid)
    send_back(approver, f"/admin/bulletins/{bid}/sends/{send.id}", "Not yet.")
    for path in (
        f"/admin/bulletins/{other}/send?again={send.id}",
        f"/admin/bulletins/{bid}/send?again=x",
    ):
        assert f'value="{partners}" checked' not in page_of(editor, path)
    assert "Sent back by" not in page_of(editor, f"/admin/bulletins/{other}")
