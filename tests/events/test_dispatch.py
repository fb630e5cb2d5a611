"""Delivering webhook messages to a real receiver on loopback, which verifies every
signature with the Standard Webhooks reference library."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, update

from mailer.accounts.models import User
from mailer.audit.models import AuditEntry
from mailer.database import Database
from mailer.delivery import webhook_loop
from mailer.delivery.models import QueuedMessage
from mailer.delivery.webhook_disabled_notice import KIND as DISABLED_NOTICE
from mailer.events import catalogue, emit, endpoints
from mailer.events.models import (
    DELIVERED,
    FAILED,
    PENDING,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookMessage,
)
from mailer.events.signing import USER_AGENT
from tests.concurrency import together
from tests.conftest import TEST_SECRET, add_user
from tests.events.helpers import (
    START,
    Clock,
    add_endpoint,
    dispatcher,
    endpoint,
    ring,
    webhook_config,
)
from tests.events.receiver import receiving


def _emit(db: Database, event: str = catalogue.CONTACT_ERASED, *, now=START, data=None) -> int:
    with db.transaction() as session:
        return emit.emit(session, event, data or {"contact_id": 7}, now=now)


def _messages(db: Database) -> list[WebhookMessage]:
    with db.transaction() as session:
        rows = list(session.scalars(select(WebhookMessage).order_by(WebhookMessage.id)))
        session.expunge_all()
        return rows


def _attempts(db: Database) -> list[WebhookAttempt]:
    with db.transaction() as session:
        rows = list(session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id)))
        session.expunge_all()
        return rows


def test_an_event_arrives_signed_and_verified(db: Database, tmp_path: Path, admin_user: User):
    config = webhook_config(tmp_path, db)
    clock = Clock()
    with receiving() as receiver:
        endpoint_id, secret = add_endpoint(db, config, admin_user, receiver.url)
        receiver.secret = secret
        assert secret.startswith("whsec_")
        assert _emit(db) == 1
        done = dispatcher(db, config, clock).run_once()
    assert done.delivered == 1
    [got] = receiver.got
    assert got.error == ""
    assert got.payload == {
        "type": "contact.erased",
        "timestamp": "2026-03-02T09:00:00Z",
        "data": {"contact_id": 7},
    }
    assert got.headers["webhook-id"].startswith("msg_")
    assert got.headers["user-agent"] == USER_AGENT
    assert got.headers["content-type"] == "application/json"
    [message] = _messages(db)
    assert message.state == DELIVERED and message.attempts == 1
    [attempt] = _attempts(db)
    assert attempt.status_code == 200 and attempt.response == "thanks" and attempt.error == ""
    assert endpoint(db, endpoint_id).failing_since is None


def test_only_endpoints_wanting_the_event_get_it(db: Database, tmp_path: Path, admin_user: User):
    config = webhook_config(tmp_path, db)
    with receiving() as receiver:
        add_endpoint(db, config, admin_user, receiver.url, events=(catalogue.SEND_FINISHED,))
        assert _emit(db, catalogue.CONTACT_ERASED) == 0
        assert _emit(db, catalogue.SEND_FINISHED, data={"send_id": 1}) == 1


def test_a_500_is_retried_later_and_delivered_once_the_receiver_recovers(
    db: Database, tmp_path: Path, admin_user: User
):
    config = webhook_config(tmp_path, db)
    clock = Clock()
    with receiving() as receiver:
        endpoint_id, receiver.secret = add_endpoint(db, config, admin_user, receiver.url)
        receiver.status, receiver.answer = 500, b"database down"
        _emit(db)
        send = dispatcher(db, config, clock)
        assert send.run_once().failed == 1
        [message] = _messages(db)
        assert message.state == PENDING and message.attempts == 1
        # The first retry waits 5 seconds (and a little jitter): not yet due.
        assert send.run_once().failed == 0
        assert len(receiver.got) == 1
        assert endpoint(db, endpoint_id).failing_since == START
        receiver.status, receiver.answer = 204, b""
        clock.advance(seconds=6)
        assert send.run_once().delivered == 1
    assert len(receiver.verified) == 2
    # The same message id both times: the receiver's key for deduplication.
    assert receiver.got[0].headers["webhook-id"] == receiver.got[1].headers["webhook-id"]
    first, second = _attempts(db)
    assert (first.status_code, first.response) == (500, "database down")
    assert first.error == "answered 500 Internal Server Error"
    assert (second.status_code, second.error) == (204, "")
    assert endpoint(db, endpoint_id).failing_since is None


def test_an_endpoint_failing_for_the_whole_window_is_disabled_and_admins_told(
    db: Database, tmp_path: Path, admin_user: User
):
    other_admin = add_user(db, email="second.admin@example.org")
    add_user(db, email="editor@example.org", role="editor")
    config = webhook_config(tmp_path, db)
    clock = Clock()
    with receiving() as receiver:
        endpoint_id, receiver.secret = add_endpoint(db, config, admin_user, receiver.url)
        receiver.status = 503
        _emit(db)
        send = dispatcher(db, config, clock)
        total_attempts = 0
        disabled = []
        for _ in range(12):
            done = webhook_loop.run_round(db, config, send)
            total_attempts += done.failed
            disabled += done.disabled
            clock.advance(hours=11)
            if disabled:
                break
        # Events after the endpoint is off are not queued for it.
        assert _emit(db, now=clock()) == 0
        clock.advance(days=2)
        assert send.run_once().failed == 0
    assert [d.endpoint_id for d in disabled] == [endpoint_id]
    assert len(receiver.got) == total_attempts
    off = endpoint(db, endpoint_id)
    assert not off.enabled and off.disabled_at is not None
    assert "answered 503" in off.disabled_reason
    # No time in the reason: the page says when, in the office's timezone.
    assert "UTC" not in off.disabled_reason and "nothing delivered for" in off.disabled_reason
    assert [m.state for m in _messages(db)] == [FAILED]
    with db.transaction() as session:
        notices = list(
            session.scalars(select(QueuedMessage).where(QueuedMessage.kind == DISABLED_NOTICE))
        )
        assert sorted(n.recipient for n in notices) == sorted([admin_user.email, other_admin.email])
        text = notices[0].data.decode()
        assert "CRM" in text and "switched off" in text
        assert f"/admin/webhooks/{endpoint_id}" in text
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "webhook.disabled")
        ).all()
        assert len(audit) == 1
        # The message whose failure switched it off was given up with it.
        assert audit[0].detail == {"messages_given_up": 1}


def test_a_slow_receiver_hits_the_timeout(db: Database, tmp_path: Path, admin_user: User):
    config = webhook_config(tmp_path, db, timeout="1s")
    with receiving() as receiver:
        receiver.delay = 3
        _, receiver.secret = add_endpoint(db, config, admin_user, receiver.url)
        _emit(db)
        assert dispatcher(db, config, Clock()).run_once().failed == 1
    [attempt] = _attempts(db)
    assert attempt.status_code is None
    assert attempt.error == "timed out after 1 s"


def test_nothing_listening_is_could_not_connect(db: Database, tmp_path: Path, admin_user: User):
    config = webhook_config(tmp_path, db)
    with receiving() as receiver:
        url = receiver.url
    add_endpoint(db, config, admin_user, url)
    _emit(db)
    dispatcher(db, config, Clock()).run_once()
    [attempt] = _attempts(db)
    assert attempt.error.startswith("could not connect")


def test_a_redirect_is_not_followed(db: Database, tmp_path: Path, admin_user: User):
    config = webhook_config(tmp_path, db)
    with receiving() as receiver:
        receiver.status = 302
        add_endpoint(db, config, admin_user, receiver.url)
        _emit(db)
        dispatcher(db, config, Clock()).run_once()
    [attempt] = _attempts(db)
    assert attempt.status_code == 302 and "redirects are not followed" in attempt.error


def test_only_2_kb_of_the_answer_is_kept(db: Database, tmp_path: Path, admin_user: User):
    config = webhook_config(tmp_path, db)
    with receiving() as receiver:
        receiver.answer = b"x" * 10_000
        add_endpoint(db, config, admin_user, receiver.url)
        _emit(db)
        dispatcher(db, config, Clock()).run_once()
    [attempt] = _attempts(db)
    assert len(attempt.response) == 2048


def test_an_address_that_turned_private_is_refused_at_sending(
    db: Database, tmp_path: Path, admin_user: User
):
    """Checked when saved and again before each attempt: DNS can change."""
    saving = webhook_config(tmp_path, db, allow_private_addresses=False)
    with db.transaction() as session:
        endpoints.create(
            session,
            endpoints.EndpointForm(
                name="CRM", url="https://crm.example.org/hook", events=(catalogue.CONTACT_ERASED,)
            ),
            settings=saving.webhooks,
            ring=ring(),
            by=session.merge(admin_user),
            now=START,
            resolver=lambda host, port: ["93.184.215.14"],
        )
    _emit(db)
    rebound = webhook_loop.dispatcher(
        db, saving, keys=[TEST_SECRET], clock=Clock(), resolver=lambda host, port: ["127.0.0.1"]
    )
    assert rebound.run_once().failed == 1
    [attempt] = _attempts(db)
    assert attempt.status_code is None
    assert "127.0.0.1, a loopback address" in attempt.error


def test_a_crashed_dispatchers_claim_runs_out_and_the_message_goes(
    db: Database, tmp_path: Path, admin_user: User
):
    config = webhook_config(tmp_path, db)
    clock = Clock()
    with receiving() as receiver:
        _, receiver.secret = add_endpoint(db, config, admin_user, receiver.url)
        _emit(db)
        crashed = dispatcher(db, config, clock)
        assert len(crashed.claim()) == 1  # ...and it dies before sending
        other = dispatcher(db, config, clock)
        assert other.claim() == []  # claimed: nobody else takes it meanwhile
        clock.advance(seconds=other.lease.total_seconds() + 1)
        assert other.run_once().delivered == 1
    assert len(receiver.verified) == 1


def test_two_dispatchers_at_once_send_each_message_once(
    db: Database, tmp_path: Path, admin_user: User
):
    if db.is_sqlite:
        pytest.skip("several dispatchers at once is PostgreSQL's case (SKIP LOCKED)")
    config = webhook_config(tmp_path, db)
    clock = Clock()
    with receiving() as receiver:
        _, receiver.secret = add_endpoint(db, config, admin_user, receiver.url)
        for number in range(60):
            _emit(db, data={"contact_id": number})
        first, second = dispatcher(db, config, clock), dispatcher(db, config, clock)
        first.batch = second.batch = 5
        results = together([first.run_once, second.run_once])
    assert sum(r.delivered for r in results) == 60
    ids = [r.headers["webhook-id"] for r in receiver.got]
    assert len(ids) == 60 and len(set(ids)) == 60
    assert sorted(p["data"]["contact_id"] for p in receiver.verified) == list(range(60))
    assert all(m.state == DELIVERED and m.attempts == 1 for m in _messages(db))
    assert json.loads(_messages(db)[0].payload)["type"] == "contact.erased"


def test_a_switched_off_endpoint_is_sent_nothing_even_a_message_left_waiting(
    db: Database, tmp_path: Path, admin_user: User
):
    config = webhook_config(tmp_path, db)
    clock = Clock()
    with receiving() as receiver:
        endpoint_id, receiver.secret = add_endpoint(db, config, admin_user, receiver.url)
        _emit(db)
        with db.transaction() as session:
            # Off, with its message still waiting (switched off by hand in the database,
            # or a retry that slipped in).
            session.execute(
                update(WebhookEndpoint)
                .where(WebhookEndpoint.id == endpoint_id)
                .values(enabled=False)
            )
        send = dispatcher(db, config, clock)
        clock.advance(hours=1)
        assert send.run_once().delivered == 0
        assert receiver.got == []
        [message] = _messages(db)
        assert message.state == PENDING and message.attempts == 0
        with db.transaction() as session:
            on = update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
            session.execute(on.values(enabled=True))
        assert send.run_once().delivered == 1
