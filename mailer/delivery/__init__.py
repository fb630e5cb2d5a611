"""Delivery: the transports a finished message leaves through (SMTP, the outbox)."""

from __future__ import annotations

from mailer.config import Config
from mailer.delivery.outbox import OutboxTransport
from mailer.delivery.smtp import SmtpTransport
from mailer.delivery.transport import Transport, TransportError

OUTBOX_FOLDER = "outbox"


def transport_for(config: Config) -> Transport:
    """A new transport as ``[mail] transport`` says (one per thread)."""
    if config.mail.transport == "smtp":
        return SmtpTransport.from_config(config.smtp)
    return OutboxTransport(config.instance_path / OUTBOX_FOLDER)


__all__ = ["OUTBOX_FOLDER", "Transport", "TransportError", "transport_for"]
