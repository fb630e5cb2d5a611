"""The seam between the product and the thing that carries mail.

A transport takes the envelope and the finished bytes of one message and either hands
it over or raises :class:`TransportError`, which says at which step of the SMTP
conversation it failed and whether trying again later could help. Everything above it
(test sends now, the delivery workers later) decides what a failure means from those
two facts alone, so SMTP and the outbox are interchangeable and tests can use either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

# Where in the conversation a failure happened. A refusal at RCPT is about one
# recipient; at CONNECT, AUTH, MAIL or DATA it is about us or the relay.
STAGE_CONNECT = "connect"
STAGE_AUTH = "auth"
STAGE_MAIL = "mail"
STAGE_RCPT = "rcpt"
STAGE_DATA = "data"
STAGE_STORE = "store"


@dataclass(eq=False)
class TransportError(Exception):
    """A message that was not handed over. ``temporary``: a later try may succeed."""

    reply: str
    stage: str
    temporary: bool
    code: int | None = None

    def __str__(self) -> str:
        kind = "temporary" if self.temporary else "permanent"
        return f"{kind} failure at {self.stage.upper()}: {self.reply}"


class Transport(Protocol):
    """What every transport offers. Instances are used by one thread at a time."""

    name: str

    def send(
        self,
        *,
        sender: str,
        recipient: str,
        data: bytes,
        before_data: Callable[[], object] | None = None,
    ) -> str:
        """Hand one message over; return the server's reply (or where it was stored).
        Raises TransportError. ``before_data`` is called once the message is about to
        be handed over (SMTP: recipient accepted, DATA next) and may raise to stop it:
        the delivery workers use it to make sure the previous outcome is recorded."""
        ...

    def close(self) -> None:
        """Let go of connections or files; the transport may be used again after."""
        ...
