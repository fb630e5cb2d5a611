"""[retention] deliveries: old per-person records go, a send's counts stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from mailer.accounts.models import User
from mailer.database import Database
from mailer.delivery import retention, sends
from mailer.delivery.models import SEND_DONE, SENT, Delivery, Send
from tests.delivery.helpers import START, make_send


def test_old_finished_sends_lose_their_rows_but_keep_their_counts(
    db: Database, admin_user: User
) -> None:
    old = make_send(db, addresses=["a@example.org", "b@example.org"], author=admin_user)
    recent = make_send(db, addresses=["c@example.org"], author=admin_user)
    running = make_send(db, addresses=["d@example.org"], author=admin_user)
    with db.transaction() as session:
        session.execute(update(Delivery).where(Delivery.send_id != running).values(state=SENT))
        session.execute(
            update(Send)
            .where(Send.id == old)
            .values(state=SEND_DONE, finished_at=START - timedelta(days=800))
        )
        session.execute(
            update(Send)
            .where(Send.id == recent)
            .values(state=SEND_DONE, finished_at=START - timedelta(days=10))
        )
    with db.transaction() as session:
        assert retention.purge(session, now=START, keep=timedelta(days=730)) == 2
    with db.transaction() as session:
        remaining = dict(
            session.execute(select(Delivery.send_id, func.count()).group_by(Delivery.send_id)).all()
        )
        assert remaining == {recent: 1, running: 1}
        kept = sends.progress(session, old)
        assert (kept.sent, kept.total) == (2, 2)
        # Running it again changes nothing.
        assert retention.purge(session, now=START, keep=timedelta(days=730)) == 0


def test_housekeeping_applies_the_configured_retention(
    tmp_path,
    db: Database,
    admin_user: User,  # type: ignore[no-untyped-def]
) -> None:
    from mailer import housekeeping
    from mailer.database import utcnow
    from tests.conftest import make_config

    send_id = make_send(db, addresses=["a@example.org"], author=admin_user)
    with db.transaction() as session:
        session.execute(
            update(Send)
            .where(Send.id == send_id)
            .values(state=SEND_DONE, finished_at=utcnow() - timedelta(days=40))
        )
    config = make_config(tmp_path, db.url, retention={"deliveries": "30d"})
    assert housekeeping.run_once(db, config) == 1
    longer = make_config(tmp_path, db.url, retention={"deliveries": "730d"})
    assert housekeeping.run_once(db, longer) == 0
