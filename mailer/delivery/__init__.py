"""Delivery: the transports a finished message leaves through (SMTP, the outbox)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mailer.config import Config
from mailer.delivery.outbox import OutboxTransport
from mailer.delivery.smtp import SmtpTransport
from mailer.delivery.transport import Transport, TransportError

if TYPE_CHECKING:  # the SMTP sender process imports this package without Flask
    from flask import Flask

    from contacts.data_rights import Scrubber

OUTBOX_FOLDER = "outbox"
# Where the app keeps its erasure_scrubbers (app.extensions).
ERASURE_SCRUBBERS = "mailer.erasure_scrubbers"


def erasure_scrubbers(config: Config) -> tuple[Scrubber, ...]:
    """Everything erasure must reach besides the contact's own rows (pass them to
    ``contacts.data_rights.erase``): pending import uploads, delivery records, outbox
    files, queued messages and sign-ups. Built from the configuration alone, so erasing
    works the same with or without a web request."""
    from contacts.pending_imports import UploadScrubber
    from mailer.delivery import privacy, queue
    from mailer.tracking import privacy as tracking_privacy

    return (
        UploadScrubber(config.instance_path),
        privacy.scrub_deliveries,
        privacy.OutboxScrubber(config.instance_path / OUTBOX_FOLDER),
        queue.scrub_queued,
        tracking_privacy.scrub_sign_ups,
    )


def init_app(app: Flask) -> None:
    app.extensions[ERASURE_SCRUBBERS] = erasure_scrubbers(app.config["MAILER"])


def transport_for(config: Config) -> Transport:
    """A new transport as ``[mail] transport`` says (one per thread)."""
    if config.mail.transport == "smtp":
        return SmtpTransport.from_config(config.smtp)
    return OutboxTransport(config.instance_path / OUTBOX_FOLDER)


__all__ = ["Transport", "TransportError", "erasure_scrubbers", "transport_for"]
