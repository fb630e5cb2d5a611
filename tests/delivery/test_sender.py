"""The SMTP connections kept in a sender process: messages arrive as they would from
smtplib in the worker, refusals come back with their stage, and neither process's
death loses a message or leaves the other behind."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from mailer.config import SmtpSection
from mailer.delivery.sender import SenderProcess
from mailer.delivery.transport import STAGE_DATA, STAGE_MAIL, STAGE_RCPT, TransportError
from tests.smtp_server import DROP, FaultySmtp, smtp_server

MESSAGE = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nHello\r\n.dot\r\n"


@pytest.fixture
def server() -> Iterator[FaultySmtp]:
    with smtp_server() as handler:
        yield handler


@pytest.fixture
def sender(server: FaultySmtp) -> Iterator[SenderProcess]:
    process = SenderProcess(
        SmtpSection(
            host="127.0.0.1",
            port=server.port,
            security="none",
            password="relay-secret",
            timeout=timedelta(seconds=5),
        )
    )
    yield process
    process.close()


def send(transport, recipient: str = "b@example.org") -> str:  # type: ignore[no-untyped-def]
    return transport.send(sender="a@example.org", recipient=recipient, data=MESSAGE)


def started(sender: SenderProcess):  # type: ignore[no-untyped-def]
    """A transport that has sent one message (b@example.org), and the sender's pid."""
    smtp = sender.transport()
    send(smtp)
    assert sender.pid is not None
    return smtp, sender.pid


def wait_for(condition, timeout: float = 10) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def test_messages_arrive_unchanged_one_relay_connection_per_channel(
    server: FaultySmtp, sender: SenderProcess
) -> None:
    first, second = sender.transport(), sender.transport()
    for n in range(3):
        assert send(first, f"r{n}@example.org").startswith("250")
        assert send(second, f"s{n}@example.org").startswith("250")
    assert all(r.data == MESSAGE for r in server.received)  # CRLF and the dot intact
    assert len(server.received) == 6
    assert server.connections == 2  # one kept-open connection per channel
    first.close()
    send(first)  # a closed transport opens a new channel and connection
    assert server.connections == 3
    second.close()
    first.close()


def test_refusals_come_back_with_their_stage_code_and_kind(
    server: FaultySmtp, sender: SenderProcess
) -> None:
    smtp = sender.transport()
    server.fail("rcpt", "451 4.3.0 try again later")
    with pytest.raises(TransportError) as caught:
        send(smtp)
    assert (caught.value.stage, caught.value.temporary, caught.value.code) == (
        STAGE_RCPT, True, 451,
    )  # fmt: skip
    assert "451 4.3.0 try again later" in str(caught.value)
    server.refuse["gone@example.org"] = "550 5.1.1 user unknown"
    with pytest.raises(TransportError) as caught:
        send(smtp, "gone@example.org")
    assert (caught.value.stage, caught.value.temporary, caught.value.code) == (
        STAGE_RCPT, False, 550,
    )  # fmt: skip
    # The relay refusing us (a quota, a policy): the workers pause the send on this.
    server.fail("mail", "554 5.7.1 sending quota exceeded")
    with pytest.raises(TransportError) as caught:
        send(smtp)
    assert (caught.value.stage, caught.value.temporary, caught.value.code) == (
        STAGE_MAIL, False, 554,
    )  # fmt: skip
    assert "sending quota exceeded" in str(caught.value)
    server.fail("data", "552 5.3.4 message too big")
    with pytest.raises(TransportError) as caught:
        send(smtp)
    assert (caught.value.stage, caught.value.temporary) == (STAGE_DATA, False)
    server.fail("rcpt", DROP)
    with pytest.raises(TransportError) as caught:
        send(smtp)
    assert caught.value.temporary and caught.value.stage == STAGE_RCPT
    send(smtp)  # and the sender reconnects after the drop
    assert len(server.received) == 1
    smtp.close()


def test_a_failing_before_data_sends_nothing(server: FaultySmtp, sender: SenderProcess) -> None:
    smtp = sender.transport()

    def fail() -> None:
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        smtp.send(sender="a@example.org", recipient="b@example.org", data=MESSAGE,
                  before_data=fail)  # fmt: skip
    send(smtp)
    assert len(server.received) == 1
    smtp.close()


def test_before_data_runs_even_when_the_relay_refuses_first(
    server: FaultySmtp, sender: SenderProcess
) -> None:
    # The worker's word (go or stop) follows every message; after a refusal at RCPT
    # the channel must still be in step for the next message.
    smtp = sender.transport()
    calls: list[str] = []
    server.refuse["gone@example.org"] = "550 5.1.1 user unknown"
    with pytest.raises(TransportError) as caught:
        smtp.send(sender="a@example.org", recipient="gone@example.org", data=MESSAGE,
                  before_data=lambda: calls.append("gone"))  # fmt: skip
    assert caught.value.code == 550
    smtp.send(sender="a@example.org", recipient="b@example.org", data=MESSAGE,
              before_data=lambda: calls.append("b"))  # fmt: skip
    assert calls == ["gone", "b"]
    assert [r.recipients[0] for r in server.received] == ["b@example.org"]
    smtp.close()


def test_a_killed_sender_fails_one_message_as_temporary_and_is_started_again(
    server: FaultySmtp, sender: SenderProcess
) -> None:
    smtp, first = started(sender)
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: sender.pid is None)
    with pytest.raises(TransportError) as caught:
        send(smtp, "c@example.org")
    assert caught.value.temporary  # retried later, with the same Message-ID
    send(smtp, "d@example.org")  # a new sender process
    assert sender.pid not in (None, first)
    assert [r.recipients[0] for r in server.received] == ["b@example.org", "d@example.org"]
    smtp.close()


def test_the_sender_exits_when_its_worker_lets_go_and_never_shows_the_password(
    server: FaultySmtp, sender: SenderProcess
) -> None:
    smtp, pid = started(sender)
    process = sender._process
    assert process is not None and process.pid == pid
    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
        assert b"relay-secret" not in cmdline.read()
    sender.close()
    assert process.poll() is None  # an open channel keeps it: its message may be in flight
    smtp.close()
    wait_for(lambda: process.poll() is not None)
    assert process.returncode == 0


def test_a_stop_signal_to_the_whole_group_leaves_the_sender_to_its_worker(
    server: FaultySmtp, sender: SenderProcess
) -> None:
    # systemd's stop and Ctrl-C reach every process of the group: the sender goes on
    # until its worker, stopping gracefully, closes the channels.
    smtp, pid = started(sender)
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        os.kill(pid, signal_number)
    time.sleep(0.2)
    send(smtp, "c@example.org")
    assert len(server.received) == 2 and server.connections == 1
    smtp.close()


def test_nobody_listening_is_a_temporary_failure_at_connect() -> None:
    from tests.cli_helpers import free_port

    sender = SenderProcess(SmtpSection(host="127.0.0.1", port=free_port(), security="none",
                                       timeout=timedelta(seconds=2)))  # fmt: skip
    with pytest.raises(TransportError) as caught:
        send(sender.transport())
    assert caught.value.temporary and caught.value.stage in ("connect", STAGE_MAIL)
    assert "cannot reach" in str(caught.value)
    sender.close()


def test_a_sender_that_cannot_start_is_a_temporary_failure_saying_so(
    server: FaultySmtp, sender: SenderProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    smtp = sender.transport()
    with pytest.raises(TransportError) as caught:
        send(smtp)
    assert caught.value.temporary and caught.value.stage == STAGE_MAIL
    assert "cannot start the SMTP sender process" in str(caught.value)
    monkeypatch.undo()
    send(smtp)  # once it can, the next message goes
    assert len(server.received) == 1
    smtp.close()
