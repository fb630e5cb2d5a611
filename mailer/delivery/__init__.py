"""Delivery: the transports a finished message leaves through (SMTP, the outbox)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mailer.config import Config
from mailer.delivery.outbox import OutboxTransport
from mailer.delivery.smtp import SmtpTransport
from mailer.delivery.transport import Transport, TransportError

if TYPE_CHECKING:  # the SMTP sender process imports this package without Flask
    from flask import Flask

OUTBOX_FOLDER = "outbox"


def init_app(app: Flask) -> None:
    # Erasure must reach delivery records, outbox files and sign-ups: importing
    # registers their scrubbers.
    from mailer.delivery import privacy, queue  # noqa: F401
    from mailer.tracking import privacy as tracking_privacy  # noqa: F401


def transport_for(config: Config) -> Transport:
    """A new transport as ``[mail] transport`` says (one per thread)."""
    if config.mail.transport == "smtp":
        return SmtpTransport.from_config(config.smtp)
    return OutboxTransport(config.instance_path / OUTBOX_FOLDER)


__all__ = ["Transport", "TransportError", "transport_for"]
