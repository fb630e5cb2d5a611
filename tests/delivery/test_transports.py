"""The SMTP and outbox transports against a real SMTP server and a real folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mailer.delivery.outbox import OutboxTransport
from mailer.delivery.smtp import SmtpTransport
from mailer.delivery.transport import (
    STAGE_CONNECT,
    STAGE_DATA,
    STAGE_MAIL,
    STAGE_RCPT,
    TransportError,
)
from tests.cli_helpers import free_port
from tests.smtp_server import DROP, FaultySmtp, smtp_server

MESSAGE = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nHello\r\n.dot\r\n"


@pytest.fixture
def server() -> Iterator[FaultySmtp]:
    with smtp_server() as handler:
        yield handler


def transport(server: FaultySmtp) -> SmtpTransport:
    return SmtpTransport(host="127.0.0.1", port=server.port, security="none", timeout=5)


def test_messages_arrive_unchanged_over_one_kept_connection(server: FaultySmtp) -> None:
    smtp = transport(server)
    for n in range(3):
        reply = smtp.send(sender="a@example.org", recipient=f"r{n}@example.org", data=MESSAGE)
        assert reply.startswith("250")
    smtp.close()
    assert [r.recipients for r in server.received] == [[f"r{n}@example.org"] for n in range(3)]
    assert all(r.data == MESSAGE for r in server.received)  # CRLF and the dot intact
    assert server.connections == 1


def test_temporary_and_permanent_refusals_name_their_stage(server: FaultySmtp) -> None:
    smtp = transport(server)
    server.fail("rcpt", "451 4.3.0 try again later")
    with pytest.raises(TransportError) as caught:
        smtp.send(sender="a@example.org", recipient="b@example.org", data=MESSAGE)
    assert (caught.value.stage, caught.value.temporary, caught.value.code) == (
        STAGE_RCPT,
        True,
        451,
    )
    assert "451 4.3.0 try again later" in str(caught.value)

    server.refuse["gone@example.org"] = "550 5.1.1 user unknown"
    with pytest.raises(TransportError) as caught:
        smtp.send(sender="a@example.org", recipient="gone@example.org", data=MESSAGE)
    assert (caught.value.stage, caught.value.temporary, caught.value.code) == (
        STAGE_RCPT,
        False,
        550,
    )

    server.fail("mail", "554 5.7.1 sending quota exceeded")
    with pytest.raises(TransportError) as caught:
        smtp.send(sender="a@example.org", recipient="b@example.org", data=MESSAGE)
    assert (caught.value.stage, caught.value.temporary) == (STAGE_MAIL, False)

    server.fail("data", "552 5.3.4 message too big")
    with pytest.raises(TransportError) as caught:
        smtp.send(sender="a@example.org", recipient="b@example.org", data=MESSAGE)
    assert (caught.value.stage, caught.value.temporary) == (STAGE_DATA, False)

    # After all that, the same connection still delivers.
    smtp.send(sender="a@example.org", recipient="b@example.org", data=MESSAGE)
    assert len(server.received) == 1
    smtp.close()


def test_a_dropped_connection_is_temporary_and_the_next_send_reconnects(
    server: FaultySmtp,
) -> None:
    smtp = transport(server)
    smtp.send(sender="a@example.org", recipient="b@example.org", data=MESSAGE)
    server.fail("rcpt", DROP)
    with pytest.raises(TransportError) as caught:
        smtp.send(sender="a@example.org", recipient="c@example.org", data=MESSAGE)
    assert caught.value.temporary and caught.value.stage == STAGE_RCPT
    smtp.send(sender="a@example.org", recipient="d@example.org", data=MESSAGE)
    assert [r.recipients[0] for r in server.received] == ["b@example.org", "d@example.org"]
    assert server.connections == 2
    smtp.close()


def test_an_idle_connection_closed_by_the_relay_is_replaced_silently(
    server: FaultySmtp,
) -> None:
    smtp = transport(server)
    smtp.send(sender="a@example.org", recipient="b@example.org", data=MESSAGE)
    server.fail("mail", DROP)  # as if the relay timed the idle connection out
    smtp.send(sender="a@example.org", recipient="c@example.org", data=MESSAGE)
    assert [r.recipients[0] for r in server.received] == ["b@example.org", "c@example.org"]
    smtp.close()


def test_nobody_listening_is_a_temporary_connect_failure() -> None:
    smtp = SmtpTransport(host="127.0.0.1", port=free_port(), security="none", timeout=2)
    with pytest.raises(TransportError) as caught:
        smtp.send(sender="a@example.org", recipient="b@example.org", data=MESSAGE)
    assert caught.value.stage == STAGE_CONNECT and caught.value.temporary
    assert "cannot reach 127.0.0.1" in str(caught.value)


def test_starttls_required_but_not_offered_is_a_clear_permanent_failure(
    server: FaultySmtp,
) -> None:
    smtp = SmtpTransport(host="127.0.0.1", port=server.port, security="starttls", timeout=5)
    with pytest.raises(TransportError) as caught:
        smtp.send(sender="a@example.org", recipient="b@example.org", data=MESSAGE)
    assert not caught.value.temporary
    assert "does not offer STARTTLS" in str(caught.value)


def test_auth_not_offered_is_a_clear_permanent_failure(server: FaultySmtp) -> None:
    smtp = SmtpTransport(
        host="127.0.0.1", port=server.port, security="none", username="u", password="p"
    )
    with pytest.raises(TransportError) as caught:
        smtp.send(sender="a@example.org", recipient="b@example.org", data=MESSAGE)
    assert not caught.value.temporary and "does not offer AUTH" in str(caught.value)


def test_non_ascii_addresses_need_smtputf8() -> None:
    with smtp_server(enable_SMTPUTF8=True) as server:
        smtp = transport(server)
        smtp.send(sender="a@example.org", recipient="zoë@example.org", data=MESSAGE)
        assert server.received[0].recipients == ["zoë@example.org"]
        smtp.close()
    with smtp_server(enable_SMTPUTF8=False) as server:
        smtp = transport(server)
        with pytest.raises(TransportError) as caught:
            smtp.send(sender="a@example.org", recipient="zoë@example.org", data=MESSAGE)
        assert "SMTPUTF8" in str(caught.value) and not caught.value.temporary


@pytest.mark.parametrize("error", [RuntimeError("the database went away"), OSError(5, "EIO")])
def test_a_failing_before_data_hands_nothing_over_and_keeps_the_connection(
    server: FaultySmtp, error: Exception
) -> None:
    # The workers record the previous outcome there; if that fails, this message must
    # not go, and the caller sees its own error, not a relay failure.
    smtp = transport(server)

    def fail() -> None:
        raise error

    with pytest.raises(type(error)) as caught:
        smtp.send(sender="a@example.org", recipient="r@example.org", data=MESSAGE, before_data=fail)
    assert caught.value is error
    assert server.received == []
    called: list[bool] = []
    smtp.send(sender="a@example.org", recipient="r@example.org", data=MESSAGE,
              before_data=lambda: called.append(True))  # fmt: skip
    smtp.close()
    assert called == [True]
    assert len(server.received) == 1 and server.connections == 1


def test_outbox_calls_before_data_first(tmp_path: Path) -> None:
    def fail() -> None:
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        OutboxTransport(tmp_path / "outbox").send(
            sender="a", recipient="b", data=MESSAGE, before_data=fail
        )
    assert not (tmp_path / "outbox").exists()


def test_outbox_writes_whole_files_only(tmp_path: Path) -> None:
    outbox = OutboxTransport(tmp_path / "outbox")
    reply = outbox.send(sender="a@example.org", recipient="b@example.org", data=MESSAGE)
    files = list((tmp_path / "outbox").iterdir())
    assert len(files) == 1 and files[0].suffix == ".eml"
    # The envelope sender first, as a receiving mail server records it: an operator
    # reads in the outbox where bounces would go.
    assert files[0].read_bytes() == b"Return-Path: <a@example.org>\r\n" + MESSAGE
    assert files[0].name in reply
    outbox.send(sender="evil\r\nBcc: x@example.org", recipient="b@example.org", data=MESSAGE)
    written = sorted(p.read_bytes() for p in (tmp_path / "outbox").iterdir())
    assert MESSAGE in written  # a sender that could start a header of its own is left out


def test_outbox_that_cannot_be_written_is_a_temporary_failure(tmp_path: Path) -> None:
    blocked = tmp_path / "outbox"
    blocked.write_text("a file where the folder should be")  # fails even for root
    with pytest.raises(TransportError) as caught:
        OutboxTransport(blocked).send(sender="a", recipient="b", data=MESSAGE)
    assert caught.value.temporary and "could not write to the outbox" in str(caught.value)
    assert [p.name for p in tmp_path.iterdir()] == ["outbox"]
