"""Every place besides the contact's own rows that keeps a person's data, listed once.

Part of the wiring (the app factory and the command line use it), because erasure and
retention reach across concepts that must not import each other: pending import
uploads (contacts), delivery records, outbox files and queued messages (delivery),
sign-ups and clicks (tracking), bounce records and the messages they came in (bounces),
the API answers kept a day for Idempotency-Key replays (api).
A new place that stores an address adds its scrubber
here, and its purge to ``retention_purges``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy.orm import Session

from contacts.data_rights import ERASURE_SCRUBBERS, Scrubber
from contacts.pending_imports import UploadScrubber
from mailer.api import idempotency
from mailer.bounces import privacy as bounce_privacy
from mailer.config import Config
from mailer.delivery import OUTBOX_FOLDER, privacy, queue, retention
from mailer.events import privacy as webhook_privacy
from mailer.tracking import privacy as tracking_privacy


def erasure_scrubbers(config: Config) -> tuple[Scrubber, ...]:
    """Everything erasure must reach besides the contact's own rows (pass them to
    ``contacts.data_rights.erase``). Built from the configuration alone, so erasing
    works the same with or without a web request."""
    return (
        UploadScrubber(config.instance_path),
        privacy.scrub_deliveries,
        privacy.OutboxScrubber(config.instance_path / OUTBOX_FOLDER),
        queue.scrub_queued,
        tracking_privacy.scrub_sign_ups,
        bounce_privacy.scrub_bounces,
        idempotency.scrub_kept_answers,
        webhook_privacy.scrub_webhooks,
    )


def retention_purges(
    config: Config,
) -> dict[str, Callable[[Session, datetime, timedelta], int]]:
    """What retention removes each day, by what it is: each purge is given ``[retention]
    deliveries`` and applies it, or the period of its own that ``config`` sets."""
    keep_messages = config.bounces.keep_messages
    return {
        "delivery rows": lambda session, now, keep: retention.purge(session, now=now, keep=keep),
        "tracking rows": lambda session, now, keep: tracking_privacy.purge(
            session, now=now, keep=keep
        ),
        "queued messages": lambda session, now, keep: queue.purge(session, now=now, keep=keep),
        "bounce records": lambda session, now, keep: bounce_privacy.purge_bounces(
            session, now=now, keep=keep
        ),
        # The messages bounces came in hold addresses and whole messages: kept for
        # [bounces] keep_messages, shorter than the records themselves.
        "stored bounce messages": lambda session, now, _keep: bounce_privacy.purge_messages(
            session, now=now, keep=keep_messages
        ),
        "webhook receipts": lambda session, now, _keep: bounce_privacy.purge_receipts(
            session, now=now
        ),
        # The answers kept for Idempotency-Key replays name contacts: a day only.
        "kept API answers": lambda session, now, _keep: idempotency.purge(session, now=now),
        # Outgoing webhook messages and their log: kept 30 days (their own period).
        "webhook messages": lambda session, now, _keep: webhook_privacy.purge(session, now=now),
    }


def init_app(app: Flask) -> None:
    app.extensions[ERASURE_SCRUBBERS] = erasure_scrubbers(app.config["MAILER"])
