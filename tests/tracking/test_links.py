"""Every link the writer put in a bulletin is tracked, with or without a consultation."""

from __future__ import annotations

import re
from datetime import timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mailer.accounts import roles
from mailer.accounts.models import User
from mailer.app import create_app
from mailer.database import Database, utcnow
from mailer.delivery import pool
from mailer.delivery.models import LINK_BODY, LINK_SURVEY, Delivery, Send, TrackedLink
from mailer.tracking import send_reports
from mailer.tracking.models import ClickCount
from scheduler.consultations import editing, lifecycle, planning
from scheduler.consultations.details import Details
from tests.conftest import add_user, make_config
from tests.delivery.helpers import smtp_config
from tests.scheduler.audience import make_list
from tests.smtp_server import smtp_server
from tests.tracking.bulletin_sends import BROWSER, add_contacts, body_links, bulletin_send, fire

REPORT = "https://example.org/report?year=2026&part=1"
PLAN = "https://example.org/plan"


def test_a_bulletin_without_a_consultation_gets_its_body_links_tracked(
    tmp_path: Path, db: Database, admin_user: User
) -> None:
    config = make_config(tmp_path, db.url)
    send_id = bulletin_send(db, config, addresses=["a@example.org"], author=admin_user)
    found = body_links(db, send_id)
    assert set(found) == {REPORT, PLAN}  # the mailto is left alone
    assert found[REPORT].label == "annual report"
    assert found[PLAN].label == "the plan"
    assert {link.consultation_id for link in found.values()} == {None}


def test_late_joiners_and_a_second_firing_keep_the_same_tokens(
    tmp_path: Path, db: Database, admin_user: User
) -> None:
    config = make_config(tmp_path, db.url)
    send_id = bulletin_send(db, config, addresses=["a@example.org"], author=admin_user)
    before = {target: link.token for target, link in body_links(db, send_id).items()}
    with db.transaction() as session:
        send = session.get(Send, send_id)
        list_id = send.audience["lists"][0]
    add_contacts(db, list_id, ["late@example.org"])
    fire(db, config, send_id)
    fire(db, config, send_id)
    after = {target: link.token for target, link in body_links(db, send_id).items()}
    assert after == before
    with db.transaction() as session:
        rows = session.scalars(select(Delivery.address).where(Delivery.send_id == send_id)).all()
    assert sorted(rows) == ["a@example.org", "late@example.org"]


def test_with_tracking_off_no_link_is_made(tmp_path: Path, db: Database, admin_user: User) -> None:
    config = make_config(tmp_path, db.url, tracking={"links": False})
    send_id = bulletin_send(db, config, addresses=["a@example.org"], author=admin_user)
    assert body_links(db, send_id) == {}


def test_an_address_too_long_to_keep_stays_as_written(
    tmp_path: Path, db: Database, admin_user: User
) -> None:
    config = make_config(tmp_path, db.url)
    long = "https://example.org/" + "x" * 1200
    send_id = bulletin_send(
        db,
        config,
        addresses=["a@example.org"],
        author=admin_user,
        body=f"[Long]({long}) and [short](https://example.org/s)",
    )
    assert set(body_links(db, send_id)) == {"https://example.org/s"}


def _parse(data: bytes) -> tuple[str, str]:
    message = BytesParser(policy=policy.default).parsebytes(data)
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()
    return html, text


def test_a_sent_message_carries_tracked_body_links_and_a_click_is_counted(
    tmp_path: Path, db: Database, admin_user: User
) -> None:
    with smtp_server() as server:
        config = smtp_config(tmp_path, db, server.port)
        send_id = bulletin_send(
            db, config, addresses=["a@example.org", "b@example.org"], author=admin_user
        )
        pool.run_once(db, config)
        received = [m.data for m in server.received]
    assert len(received) == 2
    tokens = {target: link.token for target, link in body_links(db, send_id).items()}
    for data in received:
        html, text = _parse(data)
        for token in tokens.values():
            assert f"/r/{token}" in html and f"/r/{token}" in text
        assert "example.org/report" not in html and "example.org/plan" not in text
        assert "mailto:office@pcc.example.org" in html
    follow = re.search(r"https?://[^/\s\"]+(/r/[A-Za-z0-9_-]+)", _parse(received[0])[1])
    assert follow is not None
    app: Flask = create_app(config)
    app.config["TESTING"] = True
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = BROWSER
    answer = client.get(follow.group(1))
    assert answer.status_code == 302
    assert answer.headers["Location"] in (REPORT, PLAN)
    with db.transaction() as session:
        assert session.scalar(select(ClickCount.count)) == 1
        clicks = send_reports.clicks_by_link(session, send_id)
        report = send_reports.send_report(session, session.get(Send, send_id))
    assert clicks[answer.headers["Location"]] == 1
    assert sum(clicks.values()) == 1
    clicked = next(link for link in report.links if link.clicks)
    assert clicked.target == answer.headers["Location"]
    app.extensions["mailer.db"].dispose()


def test_a_link_without_a_consultation_takes_no_share_code(
    tmp_path: Path, db: Database, admin_user: User, app: Flask
) -> None:
    config = app.config["MAILER"]
    send_id = bulletin_send(db, config, addresses=["a@example.org"], author=admin_user)
    token = body_links(db, send_id)[PLAN].token
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = BROWSER
    assert client.get(f"/r/{token}/somecode").status_code == 404
    answer = client.get(f"/r/{token}?via=anything")
    assert answer.status_code == 302 and answer.headers["Location"] == PLAN
    with db.transaction() as session:
        assert session.execute(select(ClickCount.via, ClickCount.count)).all() == [(0, 1)]


def test_a_consultations_send_gets_its_body_links_beside_its_survey_link(
    tmp_path: Path, db: Database, app: Flask
) -> None:
    config = app.config["MAILER"]
    partners = make_list(db, [("partner@example.org", "Health")])
    editor = add_user(db, email="editor@example.org", role=roles.EDITOR)
    approver = add_user(db, email="approver@example.org", role=roles.APPROVER)
    now = utcnow()
    with db.transaction() as session:
        created, _ = editing.create(
            session,
            Details(
                title="Draft Police and Crime Plan",
                opens_at=now,
                closes_at=now + timedelta(days=30),
                survey_url="https://survey.example.org/plan",
                lists=(partners,),
                launch_body="Background: [last year's plan](https://example.org/old-plan).",
            ),
            by=session.get(User, editor.id),
            rules=planning.rules_for(session, config),
            now=now,
        )
        lifecycle.submit(session, created, by=session.get(User, editor.id), now=now)
        lifecycle.approve(
            session,
            created,
            by=session.get(User, approver.id),
            two_person=True,
            base_url=config.app.base_url,
            now=now,
        )
        launch_id = session.scalars(
            select(Send.id).where(Send.consultation_id == created.id, Send.slot == "launch")
        ).one()
        cid = created.id
    fire(db, config, launch_id)
    with db.transaction() as session:
        kinds = {
            (link.kind, link.target, link.consultation_id)
            for link in session.scalars(select(TrackedLink).where(TrackedLink.send_id == launch_id))
        }
    assert (LINK_BODY, "https://example.org/old-plan", cid) in kinds
    assert (LINK_SURVEY, "https://survey.example.org/plan", cid) in kinds


def test_a_preview_keeps_the_real_links_once_the_send_has_tracked_ones(
    tmp_path: Path, db: Database, admin_user: User, admin_client: FlaskClient
) -> None:
    config = admin_client.application.config["MAILER"]
    send_id = bulletin_send(db, config, addresses=["a@example.org"], author=admin_user)
    assert body_links(db, send_id)  # the send's copies go through /r/ ...
    with db.transaction() as session:
        bulletin_id = session.get(Send, send_id).bulletin_id
    frame = admin_client.get(f"/admin/bulletins/{bulletin_id}/preview/frame.html")
    html = frame.get_data(as_text=True)
    # ... but the people checking the bulletin see where its links really go.
    assert 'href="https://example.org/plan"' in html
    assert "/r/" not in html
