"""A real SMTP server for tests (aiosmtpd on a free loopback port) that can misbehave
on request: temporary or permanent replies at any stage, a dropped connection, a
slow reply. Faults are queued per stage and used up one by one."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller

from tests.cli_helpers import free_port

DROP = "drop"  # a fault that closes the connection instead of replying


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes
    at: float = field(default_factory=time.time)  # when it arrived


@dataclass
class FaultySmtp:
    port: int = 0
    received: list[Received] = field(default_factory=list)
    # stage ("mail", "rcpt", "data") -> queued replies or DROP
    faults: dict[str, deque[str]] = field(default_factory=lambda: defaultdict(deque))
    # recipient address -> the reply every RCPT for it gets
    refuse: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    connections: int = 0
    arrived: threading.Event = field(default_factory=threading.Event)
    # Called as each message arrives, before it is accepted (a test's look at the world).
    on_data: Callable[[], None] | None = None

    def fail(self, stage: str, *replies: str) -> None:
        self.faults[stage].extend(replies)

    async def _fault(self, server, stage: str) -> str | None:  # type: ignore[no-untyped-def]
        if self.delay:
            await asyncio.sleep(self.delay)
        queue = self.faults.get(stage)
        if not queue:
            return None
        reply = queue.popleft()
        if reply == DROP:
            server.transport.abort()
            return "421 4.4.2 connection dropped by the test"
        return reply

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # type: ignore[no-untyped-def]
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, options):  # type: ignore[no-untyped-def]
        fault = await self._fault(server, "mail")
        if fault:
            return fault
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):  # type: ignore[no-untyped-def]
        fault = await self._fault(server, "rcpt")
        if fault:
            return fault
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        fault = await self._fault(server, "data")
        if fault:
            return fault
        if self.on_data is not None:
            self.on_data()
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        self.arrived.set()
        return "250 2.0.0 queued as test"


@contextmanager
def smtp_server(**controller_options: object) -> Iterator[FaultySmtp]:
    handler = FaultySmtp(port=free_port())
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port, **controller_options)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()
