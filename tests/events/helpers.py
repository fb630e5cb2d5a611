"""Endpoints and dispatchers for the webhook tests, on a clock the test drives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from mailer.accounts.models import User
from mailer.accounts.second_factors.sealing import KeyRing
from mailer.config import Config
from mailer.database import Database
from mailer.delivery import webhook_loop
from mailer.events import catalogue, endpoints
from mailer.events.dispatch import Dispatcher
from mailer.events.models import WebhookEndpoint
from tests.conftest import TEST_SECRET, make_config

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def ring() -> KeyRing:
    return KeyRing.of(TEST_SECRET)


def webhook_config(tmp_path: Path, db: Database, **values: object) -> Config:
    return make_config(
        tmp_path,
        db.url,
        webhooks={"allow_private_addresses": True, "timeout": "2s", **values},
    )


def add_endpoint(
    db: Database,
    config: Config,
    by: User,
    url: str,
    *,
    events: tuple[str, ...] = tuple(catalogue.EVENTS),
    now: datetime = START,
) -> tuple[int, str]:
    """A new endpoint; its id and signing secret."""
    with db.transaction() as session:
        endpoint = endpoints.create(
            session,
            endpoints.EndpointForm(name="CRM", url=url, events=events),
            settings=config.webhooks,
            ring=ring(),
            by=session.merge(by),
            now=now,
        )
        return endpoint.id, endpoints.secret_of(endpoint, ring())


def dispatcher(db: Database, config: Config, clock: Clock) -> Dispatcher:
    return webhook_loop.dispatcher(db, config, keys=[TEST_SECRET], clock=clock)


def endpoint(db: Database, endpoint_id: int) -> WebhookEndpoint:
    with db.transaction() as session:
        found = session.get(WebhookEndpoint, endpoint_id)
        assert found is not None
        session.expunge(found)
        return found
