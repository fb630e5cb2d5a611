"""Words for people, not machines (issue 20, item 8): times as people read them, move
reasons in words, "not sent yet" against "not sent", and a late joiner held back saying
why and when it will go."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from contacts.models import ContactList
from mailer.database import Database, utcnow
from mailer.delivery import sends
from mailer.delivery.models import Send
from scheduler import status
from scheduler.models import Blackout, Consultation
from tests.scheduler.audience import make_list
from tests.scheduler.test_consultation_views import (
    approve_as,
    create,
    launch_of,
    submitted,
)

MACHINE_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d")
WEEKDAY = r"(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
HUMAN_TIME = re.compile(WEEKDAY + r" \d{1,2} [A-Z][a-z]+ \d{4}, (\d{1,2}(:\d\d)?[ap]m|midday)")


def shown_text(html: str) -> str:
    """The page without its <time datetime="..."> attributes, the one place ISO belongs."""
    return re.sub(r'datetime="[^"]*"', "", html)


def assert_only_human_times(html: str) -> None:
    text = shown_text(html)
    assert not MACHINE_TIME.search(text), MACHINE_TIME.search(text)
    assert " UTC" not in text
    assert HUMAN_TIME.search(text)


def test_the_sending_controls_say_the_next_message_in_words(
    admin_client: FlaskClient, db: Database
) -> None:
    next_run = datetime(2026, 12, 1, 3, 20, 23, 93612, tzinfo=UTC)
    with db.transaction() as session:
        status.heartbeat(
            session, owner="host:1", now=utcnow(), next_run_at=next_run, next_send_id=None
        )
    page = admin_client.get("/admin/sending/").get_data(as_text=True)
    assert "Next message: <time" in page
    assert ">Tuesday 1 December 2026, 3:20am</time>" in page
    assert '<time datetime="2026-12-01T03:20:23Z">' in page
    assert "2026-12-01T03:20:23.093612Z" not in page and "(UTC)" not in page
    assert_only_human_times(page)


def test_a_launch_moved_off_the_weekend_says_so_in_words(
    admin_client: FlaskClient, db: Database
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    today = utcnow().date()
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 + 14)
    cid = create(
        admin_client, partners, type="general", opens_date=saturday.isoformat(), opens_time="10:00"
    )
    page = admin_client.get(f"/admin/consultations/{cid}").get_data(as_text=True)
    assert "moved from Saturday to Monday 8am: no messages at weekends" in page
    assert "Planned for <time datetime=" in page
    monday = saturday + timedelta(days=2)
    assert f"Monday {monday.day} {monday:%B %Y}, 8am</time>" in page
    assert "Sunday; Saturday" not in page and "Saturday; Sunday" not in page
    assert_only_human_times(page)


def test_messages_not_yet_due_say_when_and_not_sent_to(app: Flask, db: Database) -> None:
    editor, approver, _partners, cid, page = submitted(app, db)
    approve_as(approver, page)
    with db.transaction() as session:
        launch = launch_of(session, cid)
        sends.make_due(session, launch, now=utcnow(), domain="example.org")
        reminder = session.scalar(
            select(Send).where(Send.consultation_id == cid, Send.slot != "launch")
        )
        reminder_id = reminder.id
    # The send page of a message still to go.
    shown = editor.get(f"/admin/sends/{reminder_id}").get_data(as_text=True)
    assert "Not sent yet (due <time" in shown
    assert_only_human_times(shown)
    # The consultation page and its evidence report.
    assert_only_human_times(editor.get(page).get_data(as_text=True))
    report = editor.get(f"{page}/evidence").get_data(as_text=True)
    assert "not sent to" not in report
    assert_only_human_times(report)


def test_pages_for_comms_staff_say_what_a_setting_means_not_its_syntax(
    app: Flask, db: Database
) -> None:
    # [tracking] per_person is off unless an administrator turns it on.
    editor, approver, _partners, cid, page = submitted(app, db)
    approve_as(approver, page)
    with db.transaction() as session:
        launch = launch_of(session, cid)
        sends.make_due(session, launch, now=utcnow(), domain="example.org")
        launch_id = launch.id
    form = editor.get("/admin/consultations/new").get_data(as_text=True)
    assert (
        "Per-person tracking is off, so reminders cannot leave out people who already "
        "responded. Your administrator can turn it on."
    ) in form
    for shown in (
        form,
        editor.get(f"/admin/sends/{launch_id}/report").get_data(as_text=True),
        editor.get(f"/admin/cascade/{cid}").get_data(as_text=True),
    ):
        assert "[tracking]" not in shown and "per_person" not in shown
    assert "per-person tracking is off" in editor.get(f"/admin/sends/{launch_id}/report").get_data(
        as_text=True
    )


def test_a_late_joiner_held_back_sees_why_and_when(app: Flask, db: Database) -> None:
    editor, approver, partners, cid, page = submitted(app, db)
    approve_as(approver, page)
    now = utcnow()
    with db.transaction() as session:
        session.get(Consultation, cid).opens_at = now - timedelta(hours=1)
        launch = launch_of(session, cid)
        sends.make_due(session, launch, now=now, domain="example.org")
        launch_id = launch.id
        list_name = session.get(ContactList, partners).name
        session.add(
            Blackout(
                starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(hours=3),
                reason="By-election",
            )
        )
    make_list(db, [("late@example.org", None)], name=list_name)
    with db.transaction() as session:
        from contacts.models import Contact

        late = session.scalar(select(Contact).where(Contact.email == "late@example.org"))
        late_id = late.id
        early = session.scalar(select(Contact).where(Contact.email == "a@example.org"))
        early_id = early.id
    contact_page = editor.get(f"/admin/contacts/{late_id}").get_data(as_text=True)
    assert "joined after it went, and it is held back until <time" in contact_page
    assert "Why: blackout: By-election" in contact_page
    # Someone who had it sees no such line.
    assert "held back" not in editor.get(f"/admin/contacts/{early_id}").get_data(as_text=True)
    send_page = editor.get(f"/admin/sends/{launch_id}").get_data(as_text=True)
    assert "1 person joined the audience after it went and has not had it yet" in send_page
    assert "Why: blackout: By-election." in send_page


def test_a_page_never_fails_on_a_time_it_cannot_read(app: Flask) -> None:
    from flask import render_template_string

    with app.test_request_context():
        shown = render_template_string(
            "{{ 'not a time' | when }}|{{ d | on_day }}", d=date(2027, 1, 4)
        )
    assert shown == 'not a time|<time datetime="2027-01-04">Monday 4 January 2027</time>'
