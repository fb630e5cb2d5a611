"""Webhook messages delivered where the mail is: every ``mailer run`` and ``mailer
worker`` process runs one webhook loop beside its mail workers (a thread of its own,
so a slow endpoint never holds up mail), and ``mailer worker --once`` one round.

The dispatcher (``mailer.events.dispatch``) claims, signs, posts and logs; what it
disabled comes back here, and the admins are emailed through the mail queue, in the
same way as any one-off message. Delivery may import events; events must not import
delivery, so the notice lives on this side.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from mailer.accounts.second_factors.sealing import KeyRing
from mailer.config import Config
from mailer.database import Database, utcnow
from mailer.delivery import webhook_disabled_notice
from mailer.events import addresses
from mailer.events.dispatch import Dispatcher, Round

log = logging.getLogger(__name__)


def dispatcher(
    db: Database,
    config: Config,
    *,
    keys: list[str],
    clock: Callable[[], datetime] = utcnow,
    resolver: addresses.Resolver = addresses.system_resolver,
) -> Dispatcher:
    ring = KeyRing.of(keys[0], keys[1:])
    return Dispatcher(db, config.webhooks, ring, clock=clock, resolver=resolver)


def run_round(db: Database, config: Config, dispatch: Dispatcher) -> Round:
    """Deliver what is due; tell the admins about every endpoint switched off."""
    done = dispatch.run_once()
    for disabled in done.disabled:
        with db.writing() as session:
            told = webhook_disabled_notice.tell(session, config, disabled, now=dispatch.clock())
        log.warning(
            "webhook endpoint %s (%s) disabled; %d admin(s) told",
            disabled.endpoint_id,
            disabled.name,
            told,
        )
    if done.delivered or done.failed:
        log.info("webhooks: %d delivered, %d attempts failed", done.delivered, done.failed)
    return done


def run(db: Database, config: Config, dispatch: Dispatcher, stop: threading.Event,
        *, idle: float = 1.0) -> None:  # fmt: skip
    log.info("webhook loop started")
    while not stop.is_set():
        try:
            run_round(db, config, dispatch)
        except Exception:
            log.exception("webhook loop: unexpected error; carrying on")
        stop.wait(idle)
    log.info("webhook loop stopped")


def start(
    db: Database, config: Config, stop: threading.Event, *, keys: list[str]
) -> threading.Thread:
    thread = threading.Thread(
        target=run, args=(db, config, dispatcher(db, config, keys=keys), stop),
        name="webhooks", daemon=True,
    )  # fmt: skip
    thread.start()
    return thread
