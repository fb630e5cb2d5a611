"""Sending a bulletin on its own through the admin pages: the send form (audience,
segment, time), the send's page for an approver and its submitter, roles, CSRF and
bad input. Both database backends."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from contacts.audience import Audience
from contacts.models import Segment
from mailer.accounts import roles
from mailer.accounts.models import User
from mailer.database import Database, utcnow
from mailer.delivery.models import SEND_AWAITING_APPROVAL, SEND_DRAFT, SEND_SCHEDULED, Send
from tests.conftest import csrf_from
from tests.scheduler.audience import make_list
from tests.scheduler.bulletin_sends.helpers import write
from tests.scheduler.test_consultation_views import as_user, version_on


def page_of(client: FlaskClient, path: str) -> str:
    return html.unescape(client.get(path).get_data(as_text=True))


def user(db: Database, email: str) -> User:
    with db.transaction() as session:
        found = session.scalar(select(User).where(User.email == email))
        session.expunge(found)
        return found


def submit_form(client: FlaskClient, bid: int, **data: object):  # type: ignore[no-untyped-def]
    path = f"/admin/bulletins/{bid}/send"
    token = csrf_from(page_of(client, path))
    return client.post(path, data={"csrf_token": token, "action": "submit", **data})


def sends(db: Database, bid: int) -> list[Send]:
    with db.transaction() as session:
        found = session.scalars(select(Send).where(Send.bulletin_id == bid).order_by(Send.id)).all()
        for s in found:
            session.expunge(s)
        return list(found)


def test_an_editor_sends_it_and_another_approves_it(app: Flask, db: Database) -> None:
    editor = as_user(app, db, "editor@example.org", roles.EDITOR)
    approver = as_user(app, db, "approver@example.org", roles.APPROVER)
    partners = make_list(db, [("a@example.org", None), ("b@example.org", None)], name="Partners")
    bid = write(db, user(db, "editor@example.org"))

    edit_page = page_of(editor, f"/admin/bulletins/{bid}")
    assert "Send this bulletin" in edit_page and "Not sent yet" in edit_page
    form = page_of(editor, f"/admin/bulletins/{bid}/send")
    assert "Partners" in form and 'name="when"' in form

    # Count again: the count shows, nothing is submitted.
    counted = submit_form(editor, bid, list_ids=str(partners), audience_action="count")
    assert counted.status_code == 200
    assert "<strong>2</strong> people would receive it" in counted.get_data(as_text=True)
    assert "Submit for approval" in counted.get_data(as_text=True)
    assert sends(db, bid) == []

    done = submit_form(editor, bid, list_ids=str(partners), when="approved")
    assert done.status_code == 302
    (send,) = sends(db, bid)
    assert send.state == SEND_AWAITING_APPROVAL
    show = f"/admin/bulletins/{bid}/sends/{send.id}"
    assert done.headers["Location"].endswith(show)

    # The editor reads the send, cannot approve it; the approver can.
    own = page_of(editor, show)
    assert "Awaiting approval" in own and "Lists: Partners" in own
    assert "Approve and schedule" not in own and "Withdraw to draft" in own
    theirs = page_of(approver, show)
    assert "Approve and schedule" in theirs and "/preview" in theirs
    version = version_on(theirs)
    assert len(version) == 64 and version[:12] in theirs
    # The editor may not post an approval.
    token = csrf_from(own)
    refused = editor.post(f"{show}/approve", data={"csrf_token": token, "version": version})
    assert refused.status_code == 403
    # A stale version is refused with the sentence; the right one approves.
    stale = approver.post(
        f"{show}/approve",
        data={"csrf_token": csrf_from(theirs), "version": "0" * 64, "confirmed": "yes"},
        follow_redirects=True,
    )
    assert "It changed since you opened it; read it again." in stale.get_data(as_text=True)
    approved = approver.post(
        f"{show}/approve",
        data={"csrf_token": csrf_from(theirs), "version": version, "confirmed": "yes"},
        follow_redirects=True,
    )
    assert "Approved." in approved.get_data(as_text=True)
    assert sends(db, bid)[0].state == SEND_SCHEDULED
    after = page_of(editor, f"/admin/bulletins/{bid}")
    assert "Scheduled" in after and "copy it to change them" in after
    assert f"/admin/sends/{send.id}" in page_of(editor, show)


def test_an_approver_who_submitted_it_reads_why_they_may_not_approve(
    app: Flask, db: Database
) -> None:
    admin = as_user(app, db, "admin@example.org", roles.ADMIN)
    partners = make_list(db, [("a@example.org", None)])
    bid = write(db, user(db, "admin@example.org"))
    assert submit_form(admin, bid, list_ids=str(partners), when="approved").status_code == 302
    (send,) = sends(db, bid)
    shown = page_of(admin, f"/admin/bulletins/{bid}/sends/{send.id}")
    assert "You (admin@example.org) wrote this bulletin" in html.unescape(shown)
    assert "Approve and schedule" not in shown
    # Withdraw: back to draft.
    out = admin.post(
        f"/admin/bulletins/{bid}/sends/{send.id}/withdraw",
        data={"csrf_token": csrf_from(shown), "note": "wrong list"},
        follow_redirects=True,
    )
    assert "Withdrawn to draft" in out.get_data(as_text=True)
    assert sends(db, bid)[0].state == SEND_DRAFT


def test_a_saved_segment_fills_the_form(app: Flask, db: Database) -> None:
    editor = as_user(app, db, "editor@example.org", roles.EDITOR)
    partners = make_list(db, [("a@example.org", None)], name="Partners")
    with db.transaction() as session:
        session.add(
            Segment(name="North partners", audience=Audience.of(lists=[partners]).to_json())
        )
        segment = session.scalar(select(Segment.id).where(Segment.name == "North partners"))
    bid = write(db, user(db, "editor@example.org"))
    page = page_of(editor, f"/admin/bulletins/{bid}/send?segment_id={segment}")
    assert "North partners" in page
    assert re.search(rf'value="{partners}"\s+checked', page)
    assert "<strong>1</strong> person would receive it" in page


def test_bad_input_is_a_400_with_the_reason_and_nothing_written(app: Flask, db: Database) -> None:
    editor = as_user(app, db, "editor@example.org", roles.EDITOR)
    partners = make_list(db, [("a@example.org", None)])
    empty = make_list(db, [])
    bid = write(db, user(db, "editor@example.org"))
    past = (utcnow() - timedelta(days=2)).date().isoformat()
    for data, words in (
        ({"list_ids": str(empty), "when": "approved"}, "Nobody would receive it"),
        ({"when": "approved"}, "Choose at least one list"),
        (
            {"list_ids": str(partners), "when": "at", "day": "tomorrow"},
            "Give the date and the time",
        ),
        ({"list_ids": str(partners), "when": "at", "day": past, "clock": "09:00"}, "has passed"),
        ({"list_ids": str(partners), "when": "later"}, "as soon as approved"),
    ):
        response = submit_form(editor, bid, **data)
        assert response.status_code == 400, data
        assert words in html.unescape(response.get_data(as_text=True)), data
    assert sends(db, bid) == []
    # Without the CSRF token: refused, nothing written.
    response = editor.post(
        f"/admin/bulletins/{bid}/send", data={"list_ids": str(partners), "action": "submit"}
    )
    assert response.status_code == 400
    assert sends(db, bid) == []
    assert page_of(editor, f"/admin/bulletins/{bid + 1000}/send") and (
        editor.get(f"/admin/bulletins/{bid + 1000}/send").status_code == 404
    )


def test_roles(app: Flask, db: Database, client: FlaskClient) -> None:
    approver = as_user(app, db, "approver@example.org", roles.APPROVER)
    partners = make_list(db, [("a@example.org", None)])
    bid = write(
        db, user(db, "approver@example.org")
    )  # written directly: approvers do not write through the admin
    assert approver.get(f"/admin/bulletins/{bid}/send").status_code == 403
    assert client.get(f"/admin/bulletins/{bid}/send").status_code == 302  # sign in first
    token = csrf_from(page_of(approver, f"/admin/bulletins/{bid}"))
    posted = approver.post(
        f"/admin/bulletins/{bid}/send",
        data={"csrf_token": token, "list_ids": str(partners), "action": "submit"},
    )
    assert posted.status_code == 403
    assert sends(db, bid) == []


def attach(client: FlaskClient, bid: int, name: str = "plan.csv"):  # type: ignore[no-untyped-def]
    import io

    token = csrf_from(page_of(client, f"/admin/bulletins/{bid}"))
    return client.post(
        f"/admin/bulletins/{bid}/attachments",
        data={"csrf_token": token, "file": (io.BytesIO(b"a,b\n1,2\n"), name)},
        follow_redirects=True,
    )


def test_documents_added_while_waiting_withdraw_it_and_after_approval_are_refused(
    app: Flask, db: Database
) -> None:
    editor = as_user(app, db, "editor@example.org", roles.EDITOR)
    approver = as_user(app, db, "approver@example.org", roles.APPROVER)
    partners = make_list(db, [("a@example.org", None)])
    bid = write(db, user(db, "editor@example.org"))
    assert submit_form(editor, bid, list_ids=str(partners), when="approved").status_code == 302
    added = html.unescape(attach(editor, bid).get_data(as_text=True))
    assert "Attached plan.csv" in added and "returned its send to draft" in added
    assert sends(db, bid)[0].state == SEND_DRAFT

    assert submit_form(editor, bid, list_ids=str(partners), when="approved").status_code == 302
    second = sends(db, bid)[-1]
    show = f"/admin/bulletins/{bid}/sends/{second.id}"
    theirs = page_of(approver, show)
    approver.post(
        f"{show}/approve",
        data={"csrf_token": csrf_from(theirs), "version": version_on(theirs), "confirmed": "yes"},
    )
    assert sends(db, bid)[-1].state == SEND_SCHEDULED
    refused = html.unescape(attach(editor, bid, "more.csv").get_data(as_text=True))
    assert "copy it to change the words" in refused
    with db.transaction() as session:
        from mailer.bulletins.models import Bulletin

        assert [a.filename for a in session.get(Bulletin, bid).attachments] == ["plan.csv"]


def test_a_date_typed_with_as_soon_as_approved_chosen_is_asked_about_not_dropped(
    app: Flask, db: Database
) -> None:
    editor = as_user(app, db, "editor@example.org", roles.EDITOR)
    partners = make_list(db, [("a@example.org", None)], name="Partners")
    bid = write(db, user(db, "editor@example.org"))
    answer = submit_form(
        editor, bid, list_ids=str(partners), when="approved", day="2099-03-14", clock="09:00"
    )
    assert answer.status_code == 400
    assert "You gave a date or time but chose" in answer.get_data(as_text=True)
    assert sends(db, bid) == []
    far = submit_form(
        editor, bid, list_ids=str(partners), when="at", day="9999-12-31", clock="23:59"
    )
    assert far.status_code == 400 and "more than a year away" in far.get_data(as_text=True)
    assert sends(db, bid) == []


def test_save_from_a_tab_opened_before_the_approval_keeps_the_typed_words(
    app: Flask, db: Database
) -> None:
    editor = as_user(app, db, "editor@example.org", roles.EDITOR)
    approver = as_user(app, db, "approver@example.org", roles.APPROVER)
    partners = make_list(db, [("a@example.org", None)])
    bid = write(db, user(db, "editor@example.org"))
    # The writer's tab is open on the words; meanwhile it is submitted and approved.
    opened = page_of(editor, f"/admin/bulletins/{bid}")
    loaded = re.search(r'name="loaded_at" value="([^"]*)"', opened)
    assert loaded is not None
    assert submit_form(editor, bid, list_ids=str(partners), when="approved").status_code == 302
    show = f"/admin/bulletins/{bid}/sends/{sends(db, bid)[-1].id}"
    theirs = page_of(approver, show)
    approver.post(
        f"{show}/approve",
        data={"csrf_token": csrf_from(theirs), "version": version_on(theirs), "confirmed": "yes"},
    )
    assert sends(db, bid)[-1].state == SEND_SCHEDULED
    typed = "A paragraph typed in the old tab, which must not vanish."
    answer = editor.post(
        f"/admin/bulletins/{bid}",
        data={
            "csrf_token": csrf_from(opened),
            "loaded_at": loaded.group(1),
            "subject": "Stakeholder Special",
            "preheader": "",
            "body_markdown": typed,
        },
    )
    assert answer.status_code == 409
    page = html.unescape(answer.get_data(as_text=True))
    assert typed in page and "copy it to change the words" in page
    assert "Your changes are not saved" in page
    with db.transaction() as session:
        from mailer.bulletins.models import Bulletin

        assert typed not in session.get(Bulletin, bid).body_markdown
