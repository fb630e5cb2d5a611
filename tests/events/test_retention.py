"""Finished webhook messages and their log go after 30 days; waiting ones stay."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from mailer.accounts.models import User
from mailer.database import Database
from mailer.events import catalogue, emit
from mailer.events.models import DELIVERED, PENDING, WebhookAttempt, WebhookMessage
from mailer.personal_data import retention_purges
from tests.events.helpers import START, add_endpoint, webhook_config


def test_delivered_messages_and_attempts_go_after_30_days(
    db: Database, tmp_path: Path, admin_user: User
):
    config = webhook_config(tmp_path, db)
    endpoint_id, _ = add_endpoint(db, config, admin_user, "http://127.0.0.1:9/")
    with db.transaction() as session:
        for _ in range(2):
            emit.emit(session, catalogue.CONTACT_ERASED, {"contact_id": 1}, now=START)
        session.flush()
        old, waiting = session.scalars(select(WebhookMessage).order_by(WebhookMessage.id))
        old.state = DELIVERED
        session.add(WebhookAttempt(message_id=old.id, endpoint_id=endpoint_id, status_code=200))
        emit.emit(session, catalogue.CONTACT_ERASED, {"contact_id": 2},
                  now=START + timedelta(days=20))  # fmt: skip
        session.flush()
        session.execute(
            WebhookMessage.__table__.update().values(state=DELIVERED)
            .where(WebhookMessage.id > waiting.id)
        )  # fmt: skip
    purge = retention_purges(config)["webhook messages"]
    with db.transaction() as session:
        assert purge(session, START + timedelta(days=31), timedelta(days=730)) == 1
    with db.transaction() as session:
        states = list(session.scalars(select(WebhookMessage.state).order_by(WebhookMessage.id)))
        assert states == [PENDING, DELIVERED]
        assert session.scalar(select(func.count()).select_from(WebhookAttempt)) == 0
