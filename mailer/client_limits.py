"""Waitress, with two limits it lacks: a deadline for receiving a whole request, and
a cap on the connections one client address may hold.

Waitress's ``channel_timeout`` only closes a connection that has been *silent* that
long; every byte resets it, so a client sending a header line every few seconds keeps
a connection (and a place under ``connection_limit``) for ever, and a few hundred such
clients from one address keep everyone else, /healthz included, out. Here a request
must arrive whole within the timeout of its first byte, and one address may hold only
``per_client`` connections; more are closed as they are accepted.
"""

from __future__ import annotations

import logging
import socket
import time
from typing import Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import MultiSocketServer, TcpWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher

log = logging.getLogger(__name__)


class DeadlineChannel(HTTPChannel):
    """A connection that remembers when the request it is receiving began."""

    # time.monotonic() of the first byte of a request not yet received whole; None
    # between requests (an idle keep-alive connection is waitress's inactivity
    # timeout's business) and while a request is being answered.
    request_started: float | None = None

    @property
    def error_task_class(self) -> type[ErrorTask]:  # type: ignore[override]
        """How a request waitress refuses itself (too large, malformed) is answered: the
        server's own page when it has one (mailer.server), else waitress's."""
        return getattr(self.server, "error_task", None) or ErrorTask

    def received(self, data: bytes) -> bool:
        partial = self.request
        result: bool = super().received(data)
        if self.request is None:
            self.request_started = None
        elif self.request is not partial or self.request_started is None:
            # A new request began in this chunk (perhaps after a finished one).
            self.request_started = time.monotonic()
        return result


class LimitedServer(TcpWSGIServer):
    """A TCP listener whose channels have a request deadline (``channel_timeout``,
    checked every ``cleanup_interval``) and a cap on each client address's connections."""

    channel_class = DeadlineChannel

    # Set by waitress, and left out of its stubs (types-waitress) or typed wrongly there.
    _map: dict[int, Any]
    effective_host: str
    effective_port: int
    # The stubs say one HTTPChannel; waitress keeps them by file descriptor.
    active_channels: dict[int, HTTPChannel]  # type: ignore[assignment]

    def __init__(
        self,
        *args: Any,
        per_client: int,
        exempt: frozenset[str],
        error_task: type[ErrorTask] | None = None,
        **kwargs: Any,
    ) -> None:
        self.per_client = per_client
        self.error_task = error_task
        self.exempt = exempt
        self.refused = 0
        self.cut_off = 0
        super().__init__(*args, **kwargs)

    def accept(self) -> tuple[socket.socket, Any] | None:
        # Refusing here, before waitress makes a channel, costs the client its
        # connection and the server nothing else. The count covers every listening
        # socket, which share one map.
        pair: tuple[socket.socket, Any] | None = super().accept()
        if pair is None or not self.per_client:
            return pair
        conn, addr = pair
        host = addr[0] if isinstance(addr, tuple) else addr
        if host in self.exempt:
            return pair
        held = sum(
            1
            for dispatcher in list(self._map.values())
            if isinstance(dispatcher, HTTPChannel) and (dispatcher.addr or ("",))[0] == host
        )
        if held < self.per_client:
            return pair
        self.refused += 1
        conn.close()
        return None

    def maintenance(self, now: float) -> None:
        # waitress passes time.time(); its stubs say int.
        super().maintenance(now)  # type: ignore[arg-type]
        cutoff = time.monotonic() - self.adj.channel_timeout
        for channel in list(self.active_channels.values()):
            started = getattr(channel, "request_started", None)
            # A channel still answering an earlier request is left to finish; it is
            # checked again next round.
            if started is not None and started < cutoff and not channel.requests:
                channel.will_close = True
                self.cut_off += 1
        # One line a round, not one per connection: a flood must not flood the log.
        if self.refused:
            log.warning(
                "closed %d connection(s) at once: their address already held "
                "[app] connections_per_client (%d)",
                self.refused,
                self.per_client,
            )
            self.refused = 0
        if self.cut_off:
            log.warning(
                "closed %d connection(s) that had not sent a whole request within "
                "[app] request_timeout (%d s)",
                self.cut_off,
                self.adj.channel_timeout,
            )
            self.cut_off = 0


def create_limited_server(
    application: Any,
    *,
    per_client: int,
    exempt: frozenset[str],
    error_task: type[ErrorTask] | None = None,
    **settings: Any,
) -> LimitedServer | MultiSocketServer:
    """waitress.create_server for TCP listeners, with LimitedServer in place of
    TcpWSGIServer (create_server offers no hook for the server or channel class)."""
    adj = Adjustments(**settings)
    socket_map: dict[int, Any] = {}
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    # One listener per address the host name resolves to ("localhost": IPv4 and 6).
    servers = [
        LimitedServer(
            application,
            socket_map,
            dispatcher=dispatcher,
            adj=adj,
            sockinfo=sockinfo,
            per_client=per_client,
            exempt=exempt,
            error_task=error_task,
        )
        for sockinfo in adj.listen
    ]
    if len(servers) == 1:
        return servers[0]
    listening = [(server.effective_host, server.effective_port) for server in servers]
    return MultiSocketServer(socket_map, adj, listening, dispatcher, servers[-1].log_info)
