"""The sending controls as an admin uses them: the stop switch and blackouts, which
move the planned sends of the consultations they cover."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from mailer.database import Database
from mailer.delivery.models import Send, SendingSwitch
from scheduler.models import Blackout
from tests.scheduler.audience import make_list
from tests.scheduler.test_consultation_views import create, post


def test_the_stop_switch_and_a_blackout_from_the_sending_controls(
    admin_client: FlaskClient, db: Database
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid = create(admin_client, partners)
    page = "/admin/sending/"
    assert "Why" in admin_client.get(page).get_data(as_text=True)
    refused = post(admin_client, "/admin/sending/stop", page, reason="  ")
    assert "Say why sending is stopped" in refused.get_data(as_text=True)
    stopped = post(admin_client, "/admin/sending/stop", page, reason="Pre-election period")
    assert "All sending is stopped: Pre-election period" in stopped.get_data(as_text=True)
    with db.transaction() as session:
        assert session.get(SendingSwitch, 1).stopped is True
    post(admin_client, "/admin/sending/resume", page)
    with db.transaction() as session:
        assert session.get(SendingSwitch, 1).stopped is False
        launch = session.scalar(
            select(Send).where(Send.consultation_id == cid, Send.slot == "launch")
        )
        was = launch.due_at
    day = was.date()
    added = post(
        admin_client,
        "/admin/sending/blackouts",
        page,
        starts_date=day.isoformat(),
        starts_time="00:00",
        ends_date=(day + timedelta(days=1)).isoformat(),
        ends_time="12:00",
        reason="By-election",
    ).get_data(as_text=True)
    assert "Blackout added." in added
    with db.transaction() as session:
        moved = session.get(Send, launch.id)
        assert moved.due_at > was
        assert any("By-election" in reason for reason in moved.reasons)
        blackout = session.scalar(select(Blackout))
    backwards = post(
        admin_client,
        "/admin/sending/blackouts",
        page,
        starts_date=day.isoformat(),
        ends_date=(day - timedelta(days=1)).isoformat(),
        reason="Backwards",
    ).get_data(as_text=True)
    assert "must end after it starts" in backwards
    post(admin_client, f"/admin/sending/blackouts/{blackout.id}/remove", page)
    with db.transaction() as session:
        assert session.get(Send, launch.id).due_at == was


def test_a_blackout_without_dates_or_a_reason_is_refused_with_what_to_give(
    admin_client: FlaskClient, db: Database
) -> None:
    page = "/admin/sending/"
    refused = post(
        admin_client, "/admin/sending/blackouts", page, starts_date="", ends_date="31/02", reason=""
    ).get_data(as_text=True)
    assert "Give a date (and time)" in refused
    assert "Say why nothing may be sent" in refused
    with db.transaction() as session:
        assert session.scalars(select(Blackout)).all() == []
