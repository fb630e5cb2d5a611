"""The SMTP connections of a worker process, kept in a process of their own.

A worker's threads claim rows, render messages and record outcomes; the SMTP
conversation itself (smtplib's parsing, the socket calls, the dot-stuffing of every
message) runs in a sender process beside it. Both are Python, and Python runs one
thread of a process at a time: in one process the rendering and the SMTP took turns
and each slowed the other; in two they run side by side on two cores. Measured on
two cores (bench/bench_delivery.py), the same workers sent 15-20 % more per second.

One sender process per worker process. Each worker thread gets a channel (a Unix
socket pair, its far end passed to the sender over a control socket) and the sender
serves each channel with a thread and one kept-open SMTP connection, so "[smtp]
connections" still means connections to the relay. A message goes down the channel
with its envelope; the SMTP reply or the TransportError comes back. The worker's
guarantees do not move: an outcome is recorded by the worker before its next message
goes down the channel (``before_data``), so at most one message per connection is
handed over and unrecorded at any time.

If the worker process dies, the sender finishes the conversation it is in (at most one
message per connection: the one in flight) and exits when its channels close. If the
sender dies, the message being sent fails as a temporary failure (retried later with
the same Message-ID) and the next one starts a new sender. The relay's password
reaches the sender on its standard input, never on its command line.

    python -m mailer.delivery.sender   (started by SenderProcess, not by hand)
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import BinaryIO

from mailer.config import SmtpSection
from mailer.delivery.smtp import SmtpTransport
from mailer.delivery.transport import STAGE_DATA, STAGE_MAIL, TransportError

log = logging.getLogger(__name__)

# A request: the lengths of sender, recipient and data, then those bytes.
_REQUEST = struct.Struct("!III")
# After the request, one byte: go on to DATA, or stop (before_data failed in the worker).
_GO, _STOP = b"g", b"s"
# A reply: 0 sent / 1 refused / 2 stopped, temporary, SMTP code, length of the JSON.
_REPLY = struct.Struct("!BBHI")
_SENT, _REFUSED, _STOPPED = 0, 1, 2


class _Stopped(Exception):
    """The worker said stop before DATA."""


class SenderProcess:
    """The worker process's side: starts the sender and opens channels to it."""

    def __init__(self, smtp: SmtpSection) -> None:
        self.smtp = smtp
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None

    def transport(self) -> ChannelTransport:
        return ChannelTransport(self)

    @property
    def pid(self) -> int | None:
        """The sender process's id while it runs (for the operator and the tests)."""
        process = self._process
        return process.pid if process is not None and self._running() else None

    def channel(self) -> socket.socket:
        """A new channel to the sender (started, or started again, as needed)."""
        with self._lock:
            for attempt in (1, 2):
                control = self._control
                if control is None or not self._running():
                    control = self._start()
                ours, theirs = socket.socketpair()
                try:
                    socket.send_fds(control, [b"c"], [theirs.fileno()])
                    return ours
                except OSError:
                    ours.close()
                    if attempt == 2:
                        raise
                    self._stop()  # it died: start a new one
                finally:
                    theirs.close()
        raise AssertionError("unreachable")  # pragma: no cover

    def _running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _start(self) -> socket.socket:
        """Start a sender process; returns the control socket to it."""
        self._stop()
        ours, theirs = socket.socketpair()
        settings = {
            "host": self.smtp.host,
            "port": self.smtp.port,
            "security": self.smtp.security,
            "username": self.smtp.username,
            "password": self.smtp.password,
            "timeout": self.smtp.timeout.total_seconds(),
            "control": theirs.fileno(),
        }
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "mailer.delivery.sender"],
                stdin=subprocess.PIPE,
                pass_fds=[theirs.fileno()],
            )
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()
        # Collected when it exits, whenever that is, so it never lingers as a zombie.
        threading.Thread(target=process.wait, name="sender-reaper", daemon=True).start()
        self._process, self._control = process, ours
        assert process.stdin is not None
        with process.stdin:  # a sender that died at once shows as a closed pipe here
            process.stdin.write(json.dumps(settings).encode("utf-8") + b"\n")
        log.info("sender process %s started for %s:%s", process.pid, self.smtp.host, self.smtp.port)
        return ours

    def _stop(self) -> None:
        control, self._control, self._process = self._control, None, None
        if control is not None:
            control.close()  # the sender sees it closed and exits once its channels do

    def close(self) -> None:
        """Let the sender go: it exits once the channels still open are closed."""
        with self._lock:
            self._stop()


class ChannelTransport:
    """A Transport whose SMTP connection lives in the sender process."""

    name = "smtp"

    def __init__(self, sender: SenderProcess) -> None:
        self.sender = sender
        self._channel: socket.socket | None = None
        self._reader: BinaryIO | None = None

    def send(
        self,
        *,
        sender: str,
        recipient: str,
        data: bytes,
        before_data: Callable[[], object] | None = None,
    ) -> str:
        envelope = sender.encode("utf-8"), recipient.encode("utf-8")
        request = _REQUEST.pack(len(envelope[0]), len(envelope[1]), len(data))
        # With nothing to wait for, the word to go on to DATA goes with the request.
        request_end = _GO if before_data is None else b""
        if self._channel is None:
            try:
                self._open()
            except OSError as exc:
                raise TransportError(
                    f"cannot start the SMTP sender process: {exc}", stage=STAGE_MAIL, temporary=True
                ) from exc
        assert self._channel is not None and self._reader is not None
        try:
            self._channel.sendall(request + envelope[0] + envelope[1] + data + request_end)
        except OSError as exc:
            raise self._lost_before_sending(exc) from exc
        failure: Exception | None = None
        if before_data is not None:
            # The sender opens the SMTP transaction meanwhile (MAIL, RCPT) and waits for
            # the word before DATA: what before_data waits for overlaps with that.
            try:
                before_data()
            except Exception as exc:
                failure = exc
            try:
                self._channel.sendall(_STOP if failure else _GO)
            except OSError as exc:
                lost = self._lost_before_sending(exc)
                if failure:
                    raise failure from None
                raise lost from exc
        try:
            head = self._reader.read(_REPLY.size)
            status, temporary, code, length = _REPLY.unpack(head)
            body = json.loads(self._reader.read(length))
        except (OSError, struct.error, ValueError) as exc:
            self._discard()
            if failure is not None:
                raise failure from None  # told to stop: it never reached DATA
            # It had the message: whether the relay took it is not known. Retried later
            # with the same Message-ID, like a connection dropped during DATA.
            raise TransportError(
                "the SMTP sender process stopped while sending",
                stage=STAGE_DATA,
                temporary=True,
            ) from exc
        if failure is not None:
            raise failure  # the sender reset the transaction: nothing was handed over
        if status == _SENT:
            return str(body["reply"])
        raise TransportError(
            str(body["reply"]), stage=str(body["stage"]), temporary=bool(temporary),
            code=code or None,
        )  # fmt: skip

    def _lost_before_sending(self, exc: OSError) -> TransportError:
        """The sender went away before it could begin DATA: nothing was handed over."""
        self._discard()
        return TransportError(
            f"the SMTP sender process stopped before the message reached it: {exc}",
            stage=STAGE_MAIL,
            temporary=True,
        )

    def _open(self) -> None:
        self._channel = self.sender.channel()
        self._reader = self._channel.makefile("rb")

    def _discard(self) -> None:
        channel, reader = self._channel, self._reader
        self._channel = self._reader = None
        for closable in (reader, channel):
            if closable is not None:
                with contextlib.suppress(OSError):
                    closable.close()

    def close(self) -> None:
        """Close the relay connection (the sender ends this channel's thread)."""
        self._discard()


# --- the sender process ----------------------------------------------------------------


class _Word:
    """The worker's go or stop for one message, read once: before DATA, or after the
    relay refused the message earlier (the worker sends it either way)."""

    def __init__(self, reader: BinaryIO) -> None:
        self.reader = reader
        self.value: bytes | None = None

    def wait(self) -> None:  # SmtpTransport's before_data
        if self.read() != _GO:
            raise _Stopped

    def read(self) -> bytes:
        if self.value is None:
            self.value = self.reader.read(1)
        return self.value


def _serve(channel: socket.socket, make: Callable[[], SmtpTransport]) -> None:
    smtp = make()
    reader = channel.makefile("rb")
    try:
        while True:
            head = reader.read(_REQUEST.size)
            if len(head) < _REQUEST.size:
                return  # the worker closed the channel, or is gone
            sizes = _REQUEST.unpack(head)
            body = reader.read(sum(sizes))
            if len(body) < sum(sizes):
                return
            envelope_from = body[: sizes[0]].decode("utf-8")
            envelope_to = body[sizes[0] : sizes[0] + sizes[1]].decode("utf-8")
            word = _Word(reader)
            try:
                reply = smtp.send(
                    sender=envelope_from,
                    recipient=envelope_to,
                    data=body[sizes[0] + sizes[1] :],
                    before_data=word.wait,
                )
                status, temporary, code, answer = _SENT, False, 0, {"reply": reply}
            except TransportError as exc:
                status, temporary, code = _REFUSED, exc.temporary, exc.code or 0
                answer = {"reply": exc.reply, "stage": exc.stage}
            except _Stopped:
                status, temporary, code, answer = _STOPPED, False, 0, {}
            if word.read() not in (_GO, _STOP):
                return  # the worker is gone
            text = json.dumps(answer).encode("utf-8")
            channel.sendall(_REPLY.pack(status, temporary, code, len(text)) + text)
    except OSError:
        return
    finally:
        smtp.close()
        reader.close()
        channel.close()


def main() -> None:
    # Ctrl-C in a terminal and systemd's stop reach the whole process group: the worker
    # stops gracefully and closes its channels, and this process follows it then, not
    # in the middle of a message it was handing over.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from mailer import logs

    logs.install()  # a relay's reply is quoted in the log: one line, whatever it says
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s sender[%(process)d] %(message)s"
    )
    settings = json.loads(sys.stdin.readline())
    control = socket.socket(fileno=settings.pop("control"))

    def make() -> SmtpTransport:
        return SmtpTransport(
            host=settings["host"],
            port=settings["port"],
            security=settings["security"],
            username=settings["username"],
            password=settings["password"],
            timeout=settings["timeout"],
        )

    threads: list[threading.Thread] = []
    while True:
        try:
            _data, fds, _flags, _address = socket.recv_fds(control, 1, 1)
        except OSError:
            break
        if not fds:
            break  # the worker process closed the control socket, or is gone
        thread = threading.Thread(target=_serve, args=(socket.socket(fileno=fds[0]), make))
        thread.start()
        threads.append(thread)
        threads = [t for t in threads if t.is_alive()]
    for thread in threads:
        thread.join()
    os._exit(0)


if __name__ == "__main__":
    main()
