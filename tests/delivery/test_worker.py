"""The delivery engine against a real SMTP server that misbehaves on request, on
SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from sqlalchemy import select, text

from contacts import tokens
from contacts.models import BOUNCED, UNSUBSCRIBED, Contact, Suppression
from mailer.accounts.models import User
from mailer.database import Database
from mailer.delivery import sends, verp
from mailer.delivery.models import (
    FAILED,
    QUEUED,
    SEND_DONE,
    SEND_PAUSED,
    SEND_SENDING,
    SENT,
    SKIPPED,
    Delivery,
    Send,
)
from mailer.delivery.sender import SenderProcess
from tests.conftest import make_config
from tests.delivery.helpers import DOMAIN, START, Clock, make_send, smtp_config, worker
from tests.smtp_server import DROP, FaultySmtp, smtp_server

ADDRESSES = [f"person{n}@example.org" for n in range(6)]


@pytest.fixture
def server() -> Iterator[FaultySmtp]:
    with smtp_server() as handler:
        yield handler


@pytest.fixture
def author(admin_user: User) -> User:
    return admin_user


def rows(db: Database, send_id: int) -> list[Delivery]:
    with db.transaction() as session:
        return list(
            session.scalars(
                select(Delivery).where(Delivery.send_id == send_id).order_by(Delivery.id)
            )
        )


def send_state(db: Database, send_id: int) -> Send:
    with db.transaction() as session:
        return session.get(Send, send_id)


def test_everyone_gets_one_standard_message_and_the_send_finishes(
    tmp_path: Path, db: Database, server: FaultySmtp, author: User
) -> None:
    config = smtp_config(tmp_path, db, server.port)
    send_id = make_send(db, addresses=ADDRESSES, author=author)
    clock = Clock()
    assert worker(db, config, clock, batch_size=4).run_once() == len(ADDRESSES)

    assert sorted(r.recipients[0] for r in server.received) == sorted(ADDRESSES)
    by_address = {r.recipients[0]: r.data for r in server.received}
    for row in rows(db, send_id):
        assert (row.state, row.attempts, row.lease_owner) == (SENT, 1, "")
        assert row.last_reply.startswith("250")
        data = by_address[row.address]
        assert b"\n" not in data.replace(b"\r\n", b"")
        message = BytesParser(policy=policy.default).parsebytes(data)
        assert message["Message-ID"] == row.message_id
        assert message["Message-ID"].endswith(f"@{DOMAIN}>")
        assert message["To"].addresses[0].addr_spec == row.address
        # The unsubscribe link is this contact's own, signed, naming the send.
        token = message["List-Unsubscribe"].strip("<>").rsplit("/u/", 1)[1]
        parsed = tokens.read(tokens.UNSUBSCRIBE, token, keys=[config.app.secret_key])
        assert parsed is not None and (parsed.contact_id, parsed.send_id) == (
            row.contact_id,
            send_id,
        )
        with db.transaction() as session:
            assert parsed.key == session.get(Contact, row.contact_id).link_key
    assert send_state(db, send_id).state == SEND_DONE
    assert server.connections == 1  # one kept-open connection for the whole batch


def test_making_a_send_due_twice_creates_nothing_new(db: Database, author: User) -> None:
    send_id = make_send(db, addresses=ADDRESSES, author=author)
    with db.transaction() as session:
        made = sends.make_due(session, session.get(Send, send_id), now=Clock()(), domain=DOMAIN)
    assert made == 0
    assert len(rows(db, send_id)) == len(ADDRESSES)
    assert len({r.message_id for r in rows(db, send_id)}) == len(ADDRESSES)


def test_unsubscribed_before_or_during_the_send_are_skipped(
    tmp_path: Path, db: Database, server: FaultySmtp, author: User
) -> None:
    with db.transaction() as session:
        session.add(Contact(email=ADDRESSES[0], email_key=ADDRESSES[0], status=UNSUBSCRIBED))
    send_id = make_send(db, addresses=ADDRESSES[1:], author=author, due=False)
    with db.transaction() as session:
        # The earlier unsubscriber is on the list too.
        from contacts.models import ListMembership

        list_id = session.get(Send, send_id).audience["lists"][0]
        contact = session.scalar(select(Contact).where(Contact.email_key == ADDRESSES[0]))
        session.add(ListMembership(list_id=list_id, contact_id=contact.id))
    with db.transaction() as session:
        sends.make_due(session, session.get(Send, send_id), now=Clock()(), domain=DOMAIN)
    # One more unsubscribes after the rows are made, before any worker reaches them.
    with db.transaction() as session:
        late = session.scalar(select(Contact).where(Contact.email_key == ADDRESSES[1]))
        late.status = UNSUBSCRIBED
    config = smtp_config(tmp_path, db, server.port)
    worker(db, config, Clock()).run_once()

    states = {r.address: (r.state, r.skip_reason) for r in rows(db, send_id)}
    assert states[ADDRESSES[0]] == (SKIPPED, "unsubscribed")
    assert states[ADDRESSES[1]] == (SKIPPED, "unsubscribed")
    assert {r.recipients[0] for r in server.received} == set(ADDRESSES[2:])


@pytest.mark.parametrize("in_sender_process", [False, True], ids=["smtplib", "sender"])
@pytest.mark.slow  # over a second: the fast loop leaves it to `make test`
def test_each_outcome_is_recorded_before_the_next_message_is_handed_over(
    tmp_path: Path, db: Database, server: FaultySmtp, author: User, in_sender_process: bool
) -> None:
    # PostgreSQL's outcome write is sent and waited for later; it must still land
    # before the next message goes, so a crash repeats at most the one in flight.
    send_id = make_send(db, addresses=ADDRESSES, author=author)
    recorded_before: list[int] = []
    server.on_data = lambda: recorded_before.append(sum(r.state == SENT for r in rows(db, send_id)))
    config = smtp_config(tmp_path, db, server.port)
    sender = SenderProcess(config.smtp) if in_sender_process else None
    options = {"transport": sender.transport()} if sender else {}
    try:
        with slow_outcome_writes(db):
            assert worker(db, config, Clock(), **options).run_once() == len(ADDRESSES)
    finally:
        if sender:
            sender.close()
    assert recorded_before == list(range(len(ADDRESSES)))
    assert all(r.state == SENT for r in rows(db, send_id))


@contextmanager
def slow_outcome_writes(db: Database) -> Iterator[None]:
    """On PostgreSQL, every write to a delivery takes a tenth of a second (a trigger), so
    an outcome still on its way when the next message is handed over would show."""
    if db.is_sqlite:  # written at once there: nothing is ever on its way
        yield
        return
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "CREATE FUNCTION test_slow_write() RETURNS trigger AS "
                "$$ BEGIN PERFORM pg_sleep(0.1); RETURN NEW; END $$ LANGUAGE plpgsql"
            )
        )
        connection.execute(
            text(
                "CREATE TRIGGER test_slow_write BEFORE UPDATE ON deliveries "
                "FOR EACH ROW EXECUTE FUNCTION test_slow_write()"
            )
        )
    try:
        yield
    finally:
        with db.engine.begin() as connection:
            connection.execute(text("DROP TRIGGER test_slow_write ON deliveries"))
            connection.execute(text("DROP FUNCTION test_slow_write()"))


@pytest.mark.slow  # over a second: the fast loop leaves it to `make test`
def test_an_outcome_write_that_gets_no_answer_stops_the_worker_before_the_next_message(
    tmp_path: Path, db: Database, server: FaultySmtp, author: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite writes at once: there is no answer to wait for")
    from mailer.delivery import outcomes

    monkeypatch.setattr(outcomes, "ANSWER_TIMEOUT", 0.02)  # the trigger takes 0.1 s
    send_id = make_send(db, addresses=ADDRESSES, author=author)
    config = smtp_config(tmp_path, db, server.port)
    clock = Clock()
    with slow_outcome_writes(db), pytest.raises(TimeoutError, match="did not answer"):
        worker(db, config, clock).run_once()
    assert len(server.received) == 1  # the second message was not handed over
    monkeypatch.undo()
    clock.advance(minutes=6)  # the stalled worker's leases run out
    assert worker(db, config, clock, name="next").run_once() == len(ADDRESSES) - 1
    received = [r.recipients[0] for r in server.received]
    assert sorted(received) == sorted(ADDRESSES)  # nobody lost, nobody twice
    assert all(r.state == SENT for r in rows(db, send_id))


def test_a_batch_of_people_who_all_left_does_not_end_the_run_early(
    tmp_path: Path, db: Database, server: FaultySmtp, author: User
) -> None:
    send_id = make_send(db, addresses=ADDRESSES, author=author)
    with db.transaction() as session:  # the first two rows' people leave mid-send
        for address in ADDRESSES[:2]:
            contact = session.scalar(select(Contact).where(Contact.email_key == address))
            contact.status = UNSUBSCRIBED
    config = smtp_config(tmp_path, db, server.port)
    assert worker(db, config, Clock(), batch_size=2).run_once() == len(ADDRESSES) - 2
    assert {r.recipients[0] for r in server.received} == set(ADDRESSES[2:])
    assert send_state(db, send_id).state == SEND_DONE


def test_a_send_of_whole_batches_finishes_when_no_row_is_left(
    tmp_path: Path, db: Database, server: FaultySmtp, author: User
) -> None:
    # Every claim is full (2 of 2, then 2, then 2): no short batch says "that was the
    # last", so the empty claim after them must end the send.
    send_id = make_send(db, addresses=ADDRESSES, author=author)
    config = smtp_config(tmp_path, db, server.port)
    assert worker(db, config, Clock(), batch_size=2).run_once() == len(ADDRESSES)
    assert send_state(db, send_id).state == SEND_DONE


def test_a_temporary_refusal_is_retried_later_with_the_same_message_id(
    tmp_path: Path, db: Database, server: FaultySmtp, author: User
) -> None:
    config = smtp_config(tmp_path, db, server.port)
    send_id = make_send(db, addresses=ADDRESSES[:2], author=author)
    server.fail("rcpt", "451 4.7.1 greylisted, try again later")
    clock = Clock()
    assert worker(db, config, clock).run_once() == 1
    waiting = [r for r in rows(db, send_id) if r.state == QUEUED]
    assert len(waiting) == 1 and "451 4.7.1 greylisted" in waiting[0].last_reply
    assert waiting[0].next_attempt_at > clock()
    assert send_state(db, send_id).state == SEND_SENDING

    assert worker(db, config, clock).run_once() == 0  # not yet due
    clock.advance(hours=3)
    assert worker(db, config, clock).run_once() == 1
    again = next(r for r in rows(db, send_id) if r.id == waiting[0].id)
    assert (again.state, again.attempts, again.message_id) == (SENT, 2, waiting[0].message_id)
    received = BytesParser(policy=policy.default).parsebytes(server.received[-1].data)
    assert received["Message-ID"] == waiting[0].message_id
    assert send_state(db, send_id).state == SEND_DONE


def test_a_dropped_connection_is_retried_and_nobody_is_lost(
    tmp_path: Path, db: Database, server: FaultySmtp, author: User
) -> None:
    config = smtp_config(tmp_path, db, server.port)
    send_id = make_send(db, addresses=ADDRESSES, author=author)
    server.fail("data", DROP)
    server.fail("rcpt", "421 4.3.2 shutting down")
    clock = Clock()
    worker(db, config, clock).run_once()
    clock.advance(hours=3)
    worker(db, config, clock).run_once()
    assert all(r.state == SENT for r in rows(db, send_id))
    assert sorted(r.recipients[0] for r in server.received) == sorted(ADDRESSES)


def test_user_unknown_fails_at_once_and_suppresses_the_address(
    tmp_path: Path, db: Database, server: FaultySmtp, author: User
) -> None:
    config = smtp_config(tmp_path, db, server.port)
    send_id = make_send(db, addresses=ADDRESSES[:3], author=author)
    server.refuse[ADDRESSES[1]] = "550 5.1.1 <person1@example.org>: user unknown"
    worker(db, config, Clock()).run_once()
    failed = next(r for r in rows(db, send_id) if r.address == ADDRESSES[1])
    assert (failed.state, failed.attempts, failed.hard_bounce) == (FAILED, 1, True)
    assert "550 5.1.1" in failed.last_reply
    with db.transaction() as session:
        contact = session.get(Contact, failed.contact_id)
        assert contact.status == BOUNCED
        assert session.scalar(select(Suppression).where(Suppression.contact_id == contact.id))
    assert send_state(db, send_id).state == SEND_DONE


def test_a_relay_refusing_us_pauses_the_send_and_suppresses_nobody(
    tmp_path: Path, db: Database, server: FaultySmtp, author: User
) -> None:
    config = smtp_config(tmp_path, db, server.port)
    send_id = make_send(db, addresses=ADDRESSES, author=author)
    server.fail("mail", "554 5.7.0 daily sending quota exceeded")
    clock = Clock()
    assert worker(db, config, clock).run_once() == 0
    send = send_state(db, send_id)
    assert send.state == SEND_PAUSED
    assert "554 5.7.0 daily sending quota exceeded" in send.paused_reason
    assert all((r.state, r.attempts) == (QUEUED, 0) for r in rows(db, send_id))
    with db.transaction() as session:
        assert session.scalars(select(Suppression)).all() == []

    with db.transaction() as session:
        sends.resume(session, session.get(Send, send_id), now=clock())
    assert worker(db, config, clock).run_once() == len(ADDRESSES)
    assert send_state(db, send_id).state == SEND_DONE


def test_temporary_failures_give_up_after_max_attempts_with_the_reply(
    tmp_path: Path, db: Database, server: FaultySmtp, author: User
) -> None:
    config = smtp_config(tmp_path, db, server.port, max_attempts=3)
    send_id = make_send(db, addresses=ADDRESSES[:1], author=author)
    server.fail("rcpt", *["452 4.2.2 mailbox full"] * 3)
    clock = Clock()
    for _ in range(3):
        worker(db, config, clock).run_once()
        clock.advance(hours=3)
    (row,) = rows(db, send_id)
    assert row.state == FAILED and row.attempts == 3
    assert row.last_reply.startswith("gave up after 3 attempts") and "452 4.2.2" in row.last_reply
    assert not row.hard_bounce
    assert send_state(db, send_id).state == SEND_DONE


def test_a_worker_that_stalls_past_its_lease_loses_its_rows_and_records_nothing(
    tmp_path: Path, db: Database, server: FaultySmtp, author: User
) -> None:
    config = smtp_config(tmp_path, db, server.port)
    send_id = make_send(db, addresses=ADDRESSES[:3], author=author)
    clock = Clock()
    stalled = worker(db, config, clock, name="stalled", batch_size=2)
    claimed = stalled.claim()
    assert len(claimed) == 2
    other = worker(db, config, clock, name="other", batch_size=2)
    taken = other.claim()
    assert [r.address for r in taken] == [ADDRESSES[2]]  # the leased two are not free
    clock.advance(minutes=6)  # past the 5-minute lease
    retaken = other.claim()
    assert {r.id for r in retaken} == {r.id for r in claimed}
    assert other.process(retaken) == 2
    # The stalled worker wakes while the send still runs and sends what it had: the
    # messages go again, each with its own Message-ID, and its outcomes are not recorded.
    stalled.process(claimed)
    by_id = {r.id: r for r in rows(db, send_id)}
    assert all(by_id[c.id].state == SENT and by_id[c.id].attempts == 2 for c in claimed)
    parse = BytesParser(policy=policy.default).parsebytes
    ids = [parse(r.data)["Message-ID"] for r in server.received]
    assert len(ids) == 4 and len(set(ids)) == 2
    assert set(ids) == {c.message_id for c in claimed}


def test_a_claim_takes_expired_leases_first_then_due_rows_in_order_and_skips_paused_sends(
    tmp_path: Path, db: Database, server: FaultySmtp, author: User
) -> None:
    config = smtp_config(tmp_path, db, server.port)
    paused_id = make_send(db, addresses=ADDRESSES[:2], author=author)
    running_id = make_send(db, addresses=ADDRESSES[2:], author=author)
    with db.transaction() as session:
        sends.pause(session, session.get(Send, paused_id), reason="checking a figure")
    clock = Clock()
    dead = worker(db, config, clock, name="dead", batch_size=1)
    (abandoned,) = dead.claim()  # its worker dies holding it
    later = rows(db, running_id)[1]
    with db.transaction() as session:  # a retry waiting on its backoff
        session.get(Delivery, later.id).next_attempt_at = START + timedelta(minutes=3)
    clock.advance(minutes=6)  # past the lease and the backoff
    # Three places: the abandoned row, then the two that fell due first.
    taken = worker(db, config, clock, name="other", batch_size=3).claim()
    first_due = [r.id for r in rows(db, running_id) if r.id not in (abandoned.id, later.id)]
    assert sorted(r.id for r in taken) == sorted([abandoned.id, *first_due])
    assert {r.send_id for r in taken} == {running_id}
    assert all(r.state == QUEUED for r in rows(db, paused_id))


def test_a_worker_that_wakes_after_the_send_finished_sends_nothing(
    tmp_path: Path, db: Database, server: FaultySmtp, author: User
) -> None:
    config = smtp_config(tmp_path, db, server.port)
    make_send(db, addresses=ADDRESSES[:2], author=author)
    clock = Clock()
    stalled = worker(db, config, clock, name="stalled")
    claimed = stalled.claim()
    clock.advance(minutes=6)
    assert worker(db, config, clock, name="other").run_once() == 2
    assert stalled.process(claimed) == 0
    assert len(server.received) == 2


def test_cancel_skips_what_is_queued(db: Database, author: User) -> None:
    send_id = make_send(db, addresses=ADDRESSES, author=author)
    with db.transaction() as session:
        assert sends.cancel(session, session.get(Send, send_id), now=Clock()()) == len(ADDRESSES)
    assert {(r.state, r.skip_reason) for r in rows(db, send_id)} == {(SKIPPED, "send cancelled")}


def test_rate_per_second_spaces_messages_across_workers(
    tmp_path: Path, db: Database, server: FaultySmtp, author: User
) -> None:
    config = smtp_config(tmp_path, db, server.port, rate_per_second=4)
    make_send(db, addresses=ADDRESSES, author=author)
    clock = Clock()

    def sleep(seconds: float) -> None:
        clock.advance(seconds=seconds)

    first = worker(db, config, clock, name="a", batch_size=3, sleep=sleep)
    second = worker(db, config, clock, name="b", batch_size=3, sleep=sleep)
    # Two workers claim one batch each: the second's slots start where the first's end,
    # a quarter of a second apart throughout.
    batches = [(first, first.claim()), (second, second.claim())]
    slots = sorted(c.not_before for _w, batch in batches for c in batch)
    gaps = {round((b - a).total_seconds(), 6) for a, b in itertools.pairwise(slots)}
    assert gaps == {0.25}
    for w, batch in batches:
        w.process(batch)  # each waits (on the test's clock) for its slots
    assert len(server.received) == len(ADDRESSES)
    assert clock() >= slots[-1]


def test_hourly_cap_holds_the_rest_until_the_window_moves(
    tmp_path: Path, db: Database, server: FaultySmtp, author: User
) -> None:
    config = smtp_config(tmp_path, db, server.port, per_hour=4)
    send_id = make_send(db, addresses=ADDRESSES, author=author)
    clock = Clock()
    w = worker(db, config, clock)
    assert w.run_once() == 4
    assert w.capped_until == START + timedelta(hours=1)
    assert [r.state for r in rows(db, send_id)].count(QUEUED) == 2
    clock.advance(minutes=59)
    assert worker(db, config, clock).run_once() == 0
    clock.advance(minutes=2)
    assert worker(db, config, clock).run_once() == 2
    assert send_state(db, send_id).state == SEND_DONE


def test_a_stopping_worker_hands_back_what_it_has_not_begun(
    tmp_path: Path, db: Database, server: FaultySmtp, author: User
) -> None:
    import threading

    config = smtp_config(tmp_path, db, server.port)
    send_id = make_send(db, addresses=ADDRESSES, author=author)
    clock = Clock()
    w = worker(db, config, clock)
    claimed = w.claim()
    stop = threading.Event()
    stop.set()
    assert w.process(claimed, stop) == 0
    assert all((r.state, r.attempts, r.lease_owner) == (QUEUED, 0, "") for r in rows(db, send_id))
    assert worker(db, config, clock, name="next").run_once() == len(ADDRESSES)


def test_pause_or_cancel_in_the_admin_stops_a_batch_already_claimed(
    tmp_path: Path, db: Database, server: FaultySmtp, author: User
) -> None:
    config = smtp_config(tmp_path, db, server.port)
    clock = Clock()
    paused_id = make_send(db, addresses=ADDRESSES[:3], author=author)
    w = worker(db, config, clock)
    claimed = w.claim()
    with db.transaction() as session:
        sends.pause(session, session.get(Send, paused_id), reason="Paused by Ada")
    assert w.process(claimed) == 0
    assert {(r.state, r.attempts) for r in rows(db, paused_id)} == {(QUEUED, 0)}

    with db.transaction() as session:
        sends.resume(session, session.get(Send, paused_id), now=clock())
    claimed = w.claim()
    with db.transaction() as session:
        sends.cancel(session, session.get(Send, paused_id), now=clock())
    assert w.process(claimed) == 0
    assert {(r.state, r.skip_reason) for r in rows(db, paused_id)} == {(SKIPPED, "send cancelled")}
    assert server.received == []


def test_the_stop_switch_holds_every_delivery_until_resumed(
    tmp_path: Path, db: Database, server: FaultySmtp, author: User
) -> None:
    from mailer.delivery import switch

    config = smtp_config(tmp_path, db, server.port)
    send_id = make_send(db, addresses=ADDRESSES, author=author)
    clock = Clock()
    with db.transaction() as session:
        switch.stop(session, by=session.get(User, author.id), reason="Purdah", now=clock())
    assert worker(db, config, clock).run_once() == 0
    assert server.received == []
    # Stopped while a worker holds a batch: the rows go back within a second, untried.
    claimed = worker(db, config, clock).claim()
    assert claimed == []
    with db.transaction() as session:
        switch.resume(session, by=session.get(User, author.id), now=clock())
    busy = worker(db, config, clock, name="w2")
    batch = busy.claim()
    assert len(batch) == len(ADDRESSES)
    with db.transaction() as session:
        switch.stop(session, by=session.get(User, author.id), reason="Again", now=clock())
    assert busy.process(batch) == 0
    assert {(r.state, r.attempts) for r in rows(db, send_id)} == {(QUEUED, 0)}
    with db.transaction() as session:
        switch.resume(session, by=session.get(User, author.id), now=clock())
    assert worker(db, config, clock, name="w3").run_once() == len(ADDRESSES)


def test_with_a_bounce_address_each_envelope_sender_names_its_delivery(
    tmp_path: Path, db: Database, server: FaultySmtp, author: User
) -> None:
    config = make_config(
        tmp_path,
        db.url,
        mail={"transport": "smtp", "from_address": f"Northshire PCC <news@{DOMAIN}>"},
        smtp={"host": "127.0.0.1", "port": server.port, "security": "none", "timeout": "5s"},
        bounces={"address": f"bounces@{DOMAIN}"},
    )
    send_id = make_send(db, addresses=ADDRESSES[:3], author=author)
    assert worker(db, config, Clock()).run_once() == 3
    by_address = {r.recipients[0]: r for r in server.received}
    for row in rows(db, send_id):
        sender = by_address[row.address].sender
        token = verp.token_in([sender], f"bounces@{DOMAIN}")
        assert sender == f"bounces+{token}@{DOMAIN}"
        assert verp.read_token(token, keys=[config.app.secret_key]) == verp.Token(
            verp.BOUNCE, row.id, send_id
        )
        # The From address people see is unchanged.
        message = BytesParser(policy=policy.default).parsebytes(by_address[row.address].data)
        assert message["From"].addresses[0].addr_spec == f"news@{DOMAIN}"


def test_without_a_bounce_address_the_envelope_sender_is_the_from_address(
    tmp_path: Path, db: Database, server: FaultySmtp, author: User
) -> None:
    config = smtp_config(tmp_path, db, server.port)
    make_send(db, addresses=ADDRESSES[:1], author=author)
    assert worker(db, config, Clock()).run_once() == 1
    assert server.received[0].sender == f"news@{DOMAIN}"
