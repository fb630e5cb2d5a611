"""The real scheduler (APScheduler 3) with real workers and a real SMTP server, on
offsets of seconds: sends fire on time, once, through a change of scheduler."""

from __future__ import annotations

import email
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from sqlalchemy import select, update

from contacts import subscriptions
from contacts.models import Contact
from mailer.accounts import roles
from mailer.accounts.models import User
from mailer.config import Config
from mailer.database import Database, utcnow
from mailer.delivery import pool, switch
from mailer.delivery.models import (
    SEND_DONE,
    SEND_MISSED,
    SEND_SCHEDULED,
    Delivery,
    Send,
)
from scheduler import status
from scheduler.consultations import editing, lifecycle, planning
from scheduler.consultations.details import Details
from scheduler.models import Consultation
from scheduler.runner import Scheduler
from scheduler.timeline import ReminderSpec
from tests.conftest import add_user, make_config
from tests.scheduler.audience import make_list
from tests.smtp_server import FaultySmtp, Received, smtp_server

ADDRESSES = [f"partner{n}@example.org" for n in range(4)]
# No quiet hours, weekends or holidays: these tests run at any hour.
ANY_TIME = {"quiet_hours": "", "send_on_weekends": True, "holidays": ""}


@pytest.fixture
def server() -> Iterator[FaultySmtp]:
    with smtp_server() as handler:
        yield handler


def config_for(tmp_path: Path, db: Database, port: int, **scheduler: object) -> Config:
    return make_config(
        tmp_path,
        db.url,
        mail={"transport": "smtp", "from_address": "Northshire PCC <news@pcc.example.org>"},
        smtp={"host": "127.0.0.1", "port": port, "security": "none", "connections": 2},
        scheduler={**ANY_TIME, **scheduler},
    )


def approved_consultation(
    db: Database,
    config: Config,
    *,
    opens_in: float,
    open_for: float,
    reminders: tuple[float, ...] = (),
    notice_after: float = 2,
) -> int:
    """A consultation on ADDRESSES, submitted by an editor and approved by an approver."""
    partners = make_list(db, [(address, None) for address in ADDRESSES])
    editor = add_user(db, email="editor@example.org", role=roles.EDITOR)
    approver = add_user(db, email="approver@example.org", role=roles.APPROVER)
    now = utcnow()
    with db.transaction() as session:
        created, _ = editing.create(
            session,
            Details(
                title="Draft Police and Crime Plan",
                opens_at=now + timedelta(seconds=opens_in),
                closes_at=now + timedelta(seconds=opens_in + open_for),
                survey_url="https://survey.example.org/plan",
                lists=(partners,),
                reminders=tuple(ReminderSpec(timedelta(seconds=r)) for r in reminders),
                close_notice_after=timedelta(seconds=notice_after),
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
            base_url="https://consult.example.org",
            now=now,
        )
        return created.id


@contextmanager
def running(db: Database, config: Config, *, schedulers: int = 1) -> Iterator[list[Scheduler]]:
    """Scheduler(s) and worker threads, as `mailer run` has them; each scheduler on a
    database connection of its own, as separate processes would be."""
    stop = threading.Event()
    started = [
        Scheduler(Database(db.url), config, name=f"scheduler-{n}", sync_seconds=0.3)
        for n in range(schedulers)
    ]
    stops = [threading.Event() for _ in started]
    threads = [
        threading.Thread(target=s.run, args=(own,), daemon=True)
        for s, own in zip(started, stops, strict=True)
    ]
    threads += pool.start(db, config, stop)
    for thread in threads[: len(started)]:
        thread.start()
    try:
        yield started
    finally:
        stop.set()
        for own in stops:
            own.set()
        for thread in threads:
            thread.join(timeout=30)
        for s in started:
            s.db.dispose()


def wait_for(condition, timeout: float = 40.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def subject(message: Received) -> str:
    parsed = email.message_from_bytes(message.data)
    return str(make_header(decode_header(parsed["Subject"])))


def timeline(db: Database, consultation_id: int) -> list[Send]:
    with db.transaction() as session:
        return planning.timeline(session, session.get(Consultation, consultation_id))


@pytest.mark.slow
def test_launch_reminder_and_close_notice_go_on_time_and_an_unsubscribe_is_honoured(
    tmp_path: Path, db: Database, server: FaultySmtp
) -> None:
    config = config_for(tmp_path, db, server.port)
    cid = approved_consultation(db, config, opens_in=2, open_for=6, reminders=(3,))
    sends = timeline(db, cid)
    assert [s.kind for s in sends] == ["launch", "reminder", "close_notice"]
    due = {s.kind: s.due_at.timestamp() for s in sends}

    with running(db, config):
        wait_for(lambda: len(server.received) >= len(ADDRESSES))
        # The first partner leaves after the launch: no reminder, no close notice.
        with db.transaction() as session:
            leaver = session.scalar(select(Contact).where(Contact.email == ADDRESSES[0]))
            subscriptions.unsubscribe(session, leaver, send_id=sends[0].id, one_click=True)
        expected = len(ADDRESSES) + 2 * (len(ADDRESSES) - 1)
        wait_for(lambda: len(server.received) >= expected)
        wait_for(lambda: all(s.state == SEND_DONE for s in timeline(db, cid)), timeout=10)

    assert len(server.received) == expected
    kinds = {"Have your say": "launch", "Reminder": "reminder", "Thank you": "close_notice"}
    got: dict[str, list[tuple[str, float]]] = {}
    for message in server.received:
        kind = next(k for prefix, k in kinds.items() if subject(message).startswith(prefix))
        got.setdefault(kind, []).append((message.recipients[0], message.at))
    assert sorted(a for a, _ in got["launch"]) == ADDRESSES
    assert sorted(a for a, _ in got["reminder"]) == ADDRESSES[1:]
    assert sorted(a for a, _ in got["close_notice"]) == ADDRESSES[1:]
    for kind, arrivals in got.items():
        for _address, at in arrivals:
            # Never early; within a few seconds of its time.
            assert due[kind] - 0.5 <= at <= due[kind] + 4, (kind, at - due[kind])
    with db.transaction() as session:
        skipped = session.scalars(
            select(Delivery.skip_reason).where(Delivery.address == ADDRESSES[0])
        ).all()
    assert sorted(skipped) == ["", "unsubscribed", "unsubscribed"]


@pytest.mark.slow
def test_two_schedulers_fire_each_send_once_and_the_second_takes_over(
    tmp_path: Path, db: Database, server: FaultySmtp
) -> None:
    config = config_for(tmp_path, db, server.port)
    cid = approved_consultation(db, config, opens_in=2, open_for=5, reminders=(2.5,))
    with running(db, config, schedulers=2) as (first, second):
        wait_for(lambda: first.leading or second.leading, timeout=5)
        leader, standby = (first, second) if first.leading else (second, first)
        assert not standby.leading
        wait_for(lambda: len(server.received) >= len(ADDRESSES))  # the launch
        # The leader dies; the standby takes the lock within a tick and goes on.
        leader.step_down()
        leader.lock.acquire = lambda: False  # type: ignore[method-assign]
        wait_for(lambda: standby.leading, timeout=5)
        wait_for(lambda: len(server.received) >= 3 * len(ADDRESSES))
        wait_for(lambda: all(s.state == SEND_DONE for s in timeline(db, cid)), timeout=10)
        time.sleep(1)  # room for any wrong second firing to show itself

    assert leader.fired + standby.fired == 3
    assert standby.fired >= 1
    assert len(server.received) == 3 * len(ADDRESSES)
    per_address = sorted(m.recipients[0] for m in server.received)
    assert per_address == sorted(ADDRESSES * 3)


def test_a_send_missed_beyond_the_grace_time_is_marked_and_can_be_sent_now(
    tmp_path: Path, db: Database, server: FaultySmtp
) -> None:
    config = config_for(tmp_path, db, server.port, misfire_grace="5m")
    cid = approved_consultation(db, config, opens_in=3600, open_for=7200)
    launch = timeline(db, cid)[0]
    # The scheduler was down when the launch fell due, 10 minutes ago.
    with db.transaction() as session:
        session.execute(
            update(Send).where(Send.id == launch.id).values(due_at=utcnow() - timedelta(minutes=10))
        )
    scheduler = Scheduler(db, config, sync_seconds=0.2)
    try:
        scheduler.step()
        assert timeline(db, cid)[0].state == SEND_MISSED
        with db.transaction() as session:
            approver = session.scalar(select(User).where(User.role == roles.APPROVER))
            lifecycle.send_now(session, session.get(Send, launch.id), by=approver, now=utcnow())
        scheduler.step()
        wait_for(lambda: scheduler.fired == 1, timeout=5)
    finally:
        scheduler.step_down()
    sent = timeline(db, cid)[0]
    assert sent.fired_at is not None
    assert any("sent late" in reason for reason in sent.reasons)


@pytest.mark.slow
def test_an_approved_consultation_opened_early_sends_its_launch_on_the_next_tick(
    tmp_path: Path, db: Database, server: FaultySmtp
) -> None:
    config = config_for(tmp_path, db, server.port)
    cid = approved_consultation(db, config, opens_in=3600, open_for=7200)
    later = [s.id for s in timeline(db, cid)[1:]]
    with running(db, config):
        time.sleep(0.5)
        assert not server.received
        with db.transaction() as session:
            approver = session.scalar(select(User).where(User.role == roles.APPROVER))
            consultation = session.get(Consultation, cid)
            lifecycle.open_now(session, consultation, by=approver, now=utcnow())
        wait_for(lambda: len(server.received) == len(ADDRESSES), timeout=10)
    assert all(subject(m).startswith("Have your say") for m in server.received)
    launch, *rest = timeline(db, cid)
    assert launch.fired_at is not None
    assert any("opened early" in reason for reason in launch.reasons)
    # The reminders and the close notice keep their approved times.
    assert [s.id for s in rest] == later and all(s.fired_at is None for s in rest)
    with db.transaction() as session:
        consultation = session.get(Consultation, cid)
        assert consultation.phase(utcnow()) == "open"
        frozen_opening = rest[0].frozen["extra"]["consultation"]["opens_at"]
        assert frozen_opening == consultation.opens_at.isoformat()


def test_a_send_missed_within_the_grace_time_runs_late(
    tmp_path: Path, db: Database, server: FaultySmtp
) -> None:
    config = config_for(tmp_path, db, server.port, misfire_grace="1h")
    cid = approved_consultation(db, config, opens_in=3600, open_for=7200)
    launch = timeline(db, cid)[0]
    with db.transaction() as session:
        session.execute(
            update(Send).where(Send.id == launch.id).values(due_at=utcnow() - timedelta(minutes=10))
        )
    scheduler = Scheduler(db, config)
    try:
        scheduler.step()
        wait_for(lambda: scheduler.fired == 1, timeout=5)
    finally:
        scheduler.step_down()
    assert timeline(db, cid)[0].fired_at is not None


@pytest.mark.slow
def test_the_stop_switch_holds_every_send_until_resumed(
    tmp_path: Path, db: Database, server: FaultySmtp
) -> None:
    config = config_for(tmp_path, db, server.port)
    cid = approved_consultation(db, config, opens_in=1, open_for=3600)
    admin_id = add_user(db, email="admin@example.org").id
    with db.transaction() as session:
        admin = session.get(User, admin_id)
        switch.stop(session, by=admin, reason="Pre-election period", now=utcnow())
    scheduler = Scheduler(db, config)
    try:
        time.sleep(1.5)
        scheduler.step()
        time.sleep(0.5)
        assert scheduler.fired == 0
        assert timeline(db, cid)[0].state == SEND_SCHEDULED
        with db.transaction() as session:
            assert status.read(session, now=utcnow())["sending_stopped"] is True
            switch.resume(session, by=session.get(User, admin.id), now=utcnow())
        scheduler.step()
        wait_for(lambda: scheduler.fired == 1, timeout=5)
    finally:
        scheduler.step_down()


def test_the_active_scheduler_reports_itself_and_its_next_send(
    tmp_path: Path, db: Database, server: FaultySmtp
) -> None:
    config = config_for(tmp_path, db, server.port)
    cid = approved_consultation(db, config, opens_in=3600, open_for=7200)
    scheduler = Scheduler(db, config, name="sched-test")
    try:
        scheduler.step()
        with db.transaction() as session:
            seen = status.read(session, now=utcnow())
        assert seen["state"] == "running" and seen["owner"] == "sched-test"
        assert seen["next_send_id"] == timeline(db, cid)[0].id
    finally:
        scheduler.step_down()
    with db.transaction() as session:
        assert status.read(session, now=utcnow())["state"] == "not running"


def test_a_contact_who_joins_the_list_while_it_is_open_gets_the_launch(
    tmp_path: Path, db: Database, server: FaultySmtp
) -> None:
    from contacts.models import ContactList, ListMembership

    config = config_for(tmp_path, db, server.port)
    cid = approved_consultation(db, config, opens_in=0.5, open_for=3600)
    time.sleep(0.6)
    scheduler = Scheduler(db, config, late_joiners_seconds=0)
    try:
        scheduler.step()
        wait_for(lambda: scheduler.fired == 1, timeout=5)
        launch = timeline(db, cid)[0]
        with db.transaction() as session:
            list_id = session.get(Send, launch.id).audience["lists"][0]
            late = Contact(email="late@example.org", email_key="late@example.org")
            session.add(late)
            session.add(ListMembership(list=session.get(ContactList, list_id), contact=late))
        scheduler.step()
    finally:
        scheduler.step_down()
    with db.transaction() as session:
        addresses = session.scalars(
            select(Delivery.address).where(Delivery.send_id == launch.id)
        ).all()
    assert sorted(addresses) == sorted([*ADDRESSES, "late@example.org"])
