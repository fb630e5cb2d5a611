"""The report of one send and of a bulletin: figures that match the delivery rows, the
unsubscribes the send caused, and the clicks on its links; as pages and as CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from contacts import data_rights, subscriptions
from contacts.data_rights import ERASURE_SCRUBBERS
from contacts.models import Contact
from mailer.accounts.models import User
from mailer.bulletins.models import Bulletin
from mailer.database import Database
from mailer.delivery import sends
from mailer.delivery.models import (
    FAILED,
    SENT,
    SKIP_BOUNCED,
    SKIP_UNSUBSCRIBED,
    SKIPPED,
    Delivery,
    Send,
)
from mailer.tracking import send_reports
from tests.tracking.bulletin_sends import BROWSER, body_links, bulletin_send, fire

ADDRESSES = [f"person{n}@example.org" for n in range(10)]
PLAN = "https://example.org/plan"


def _states(db: Database, send_id: int) -> None:
    """Four delivered, three failed (one a formula), two skipped (two reasons), one queued."""
    with db.transaction() as session:
        rows = session.scalars(
            select(Delivery).where(Delivery.send_id == send_id).order_by(Delivery.id)
        ).all()
        for row in rows[:4]:
            row.state = SENT
        for number, row in enumerate(rows[4:7]):
            row.state, row.attempts = FAILED, 2
            row.last_reply = '=HYPERLINK("http://evil")' if number == 0 else f"550 no {number}"
        rows[7].state, rows[7].skip_reason = SKIPPED, SKIP_UNSUBSCRIBED
        rows[8].state, rows[8].skip_reason = SKIPPED, SKIP_BOUNCED


def _report(db: Database, send_id: int, **kw: int) -> send_reports.SendReport:
    with db.transaction() as session:
        return send_reports.send_report(session, session.get(Send, send_id), **kw)


def test_the_counts_match_the_delivery_rows(
    tmp_path: Path, db: Database, admin_user: User, app: Flask
) -> None:
    send_id = bulletin_send(db, app.config["MAILER"], addresses=ADDRESSES, author=admin_user)
    _states(db, send_id)
    report = _report(db, send_id)
    counts = report.counts
    assert (counts.recipients, counts.delivered, counts.failed, counts.skipped) == (10, 4, 3, 2)
    assert counts.waiting == 1
    assert dict(report.skipped_by_reason) == {SKIP_UNSUBSCRIBED: 1, SKIP_BOUNCED: 1}
    assert [f.last_reply for f in report.failures][-1].startswith("=HYPERLINK")  # newest first
    assert report.cascade is None
    paged = _report(db, send_id, page=2, per_page=2)
    assert paged.failures_pages == 2 and len(paged.failures) == 1
    assert paged.failures[0].last_reply.startswith("=HYPERLINK")


def test_unsubscribes_caused_by_the_send_count_each_person_once(
    tmp_path: Path, db: Database, admin_user: User, app: Flask
) -> None:
    config = app.config["MAILER"]
    send_id = bulletin_send(db, config, addresses=ADDRESSES, author=admin_user)
    other = bulletin_send(db, config, addresses=["elsewhere@example.org"], author=admin_user)
    with app.app_context(), db.transaction() as session:
        contacts = {
            c.email: c for c in session.scalars(select(Contact).where(Contact.email.in_(ADDRESSES)))
        }
        for address in ADDRESSES[:3]:
            subscriptions.unsubscribe(session, contacts[address], send_id=send_id, one_click=False)
        subscriptions.unsubscribe(session, contacts[ADDRESSES[3]], send_id=other, one_click=True)
    with app.app_context(), db.transaction() as session:
        # One of the three later asked to be erased: still one unsubscribe, not zero or two.
        gone = session.scalar(select(Contact).where(Contact.email == ADDRESSES[0]))
        data_rights.erase(
            session,
            gone,
            by=session.get(User, admin_user.id),
            scrubbers=app.extensions[ERASURE_SCRUBBERS],
        )
    assert _report(db, send_id).counts.unsubscribes == 3
    assert _report(db, other).counts.unsubscribes == 1


def test_the_report_pages_need_a_sign_in_and_know_their_sends(
    tmp_path: Path, db: Database, admin_user: User, app: Flask, client: FlaskClient
) -> None:
    send_id = bulletin_send(db, app.config["MAILER"], addresses=ADDRESSES, author=admin_user)
    for path in (
        f"/admin/sends/{send_id}/report",
        f"/admin/sends/{send_id}/report.csv",
        "/admin/bulletins/1/report",
        "/admin/bulletins/1/report.csv",
    ):
        answer = client.get(path)
        assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_the_pages_show_the_figures_and_the_csv_is_neutralised(
    tmp_path: Path, db: Database, admin_user: User, admin_client: FlaskClient
) -> None:
    app = admin_client.application
    send_id = bulletin_send(db, app.config["MAILER"], addresses=ADDRESSES, author=admin_user)
    _states(db, send_id)
    token = body_links(db, send_id)[PLAN].token
    visitor = app.test_client()
    visitor.environ_base["HTTP_USER_AGENT"] = BROWSER
    assert visitor.get(f"/r/{token}").status_code == 302

    assert admin_client.get("/admin/sends/999999/report").status_code == 404
    assert admin_client.get("/admin/sends/999999/report.csv").status_code == 404
    assert admin_client.get("/admin/bulletins/999999/report").status_code == 404
    assert admin_client.get(f"/admin/sends/{send_id}/report?page=0").status_code == 400

    page = admin_client.get(f"/admin/sends/{send_id}/report").get_data(as_text=True)
    assert "the plan" in page and PLAN in page
    assert "550 no 1" in page and SKIP_BOUNCED in page
    assert f"/admin/sends/{send_id}/report.csv" in page
    show = admin_client.get(f"/admin/sends/{send_id}").get_data(as_text=True)
    assert f"/admin/sends/{send_id}/report" in show

    answer = admin_client.get(f"/admin/sends/{send_id}/report.csv")
    assert answer.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert ["Delivered", "4"] in rows and ["Failed", "3"] in rows
    assert ["the plan", PLAN, "body", "1"] in rows
    replies = [row[2] for row in rows if len(row) == 5 and row[1] == "2"]
    assert '\'=HYPERLINK("http://evil")' in replies
    assert not any(cell.startswith("=") for row in rows for cell in row)

    with app.app_context(), db.transaction() as session:
        bulletin_id = session.get(Send, send_id).bulletin_id
    bulletin = admin_client.get(f"/admin/bulletins/{bulletin_id}/report").get_data(as_text=True)
    assert f"/admin/sends/{send_id}/report" in bulletin
    assert "All sends" in bulletin
    answer = admin_client.get(f"/admin/bulletins/{bulletin_id}/report.csv")
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert rows[0] == ["sends"]
    assert ["all", "All sends", "", "", "10", "4", "3", "1", "2", "0", "1", "0", "0"] in rows
    assert ["the plan", PLAN, "body", "1"] in rows
    assert admin_client.get("/admin/bulletins/999999/report.csv").status_code == 404


def test_a_bulletins_report_sums_its_sends(
    tmp_path: Path, db: Database, admin_user: User, app: Flask
) -> None:
    config = app.config["MAILER"]
    first = bulletin_send(db, config, addresses=ADDRESSES, author=admin_user)
    _states(db, first)
    with db.transaction() as session:
        bulletin_id = session.get(Send, first).bulletin_id
        second = sends.create(
            session,
            session.get(Bulletin, bulletin_id),
            audience=session.get(Send, first).audience,
            due_at=session.get(Send, first).due_at,
        ).id
    fire(db, config, second)
    with db.transaction() as session:
        session.execute(update(Delivery).where(Delivery.send_id == second).values(state=SENT))
        report = send_reports.bulletin_report(session, bulletin_id)
    assert [row.send_id for row in report.sends] == [first, second]
    assert report.total.recipients == 20
    assert report.total.delivered == 4 + 10
    assert report.total.failed == 3
    assert {link.target for link in report.links} >= {PLAN}
