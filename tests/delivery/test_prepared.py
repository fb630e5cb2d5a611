"""A send's message is prepared once per worker process and not kept for ever."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from mailer.accounts.models import User
from mailer.bulletins import messages
from mailer.database import Database, utcnow
from mailer.delivery import pool, prepared
from tests.delivery.helpers import Clock, make_send, smtp_config
from tests.smtp_server import smtp_server


@pytest.fixture
def preparations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry for every run of the template and premailer."""
    made: list[int] = []
    real = messages.prepare_frozen

    def counting(frozen, **kw):  # type: ignore[no-untyped-def]
        made.append(1)
        return real(frozen, **kw)

    monkeypatch.setattr(messages, "prepare_frozen", counting)
    return made


def test_the_threads_of_a_worker_process_prepare_a_send_once(
    tmp_path: Path, db: Database, admin_user: User, preparations: list[int]
) -> None:
    addresses = [f"person{n}@example.org" for n in range(40)]
    with smtp_server() as server:
        config = smtp_config(tmp_path, db, server.port, connections=4)
        make_send(db, addresses=addresses, author=admin_user, now=utcnow())
        workers = pool.workers(db, config)
        for worker in workers:
            worker._batch = 5  # small batches: every thread takes rows of the send
        assert len({id(w.prepared) for w in workers}) == 1
        sent: list[int] = []
        threads = [threading.Thread(target=lambda w=w: sent.append(w.run_once())) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sum(sent) == len(addresses)
    assert sum(1 for n in sent if n) >= 2, "several connections shared the send"
    assert len(server.received) == len(addresses)
    assert len(preparations) == 1


def test_only_the_last_few_sends_stay_prepared(
    tmp_path: Path, db: Database, admin_user: User, preparations: list[int]
) -> None:
    config = smtp_config(tmp_path, db, 25)
    send_ids = [
        make_send(db, addresses=[f"p{n}@example.org"], author=admin_user)
        for n in range(prepared.KEEP + 2)
    ]
    cache = prepared.PreparedSends(db, messages.settings_from(config), clock=Clock())
    for send_id in send_ids:
        message, shared, _personal, _lists = cache.get(send_id)
        assert message is cache.get(send_id)[0]  # kept while it is recent
        assert shared["share"]
    assert len(preparations) == len(send_ids)
    cache.get(send_ids[-1])
    assert len(preparations) == len(send_ids)  # the newest is still prepared
    cache.get(send_ids[0])
    assert len(preparations) == len(send_ids) + 1  # the oldest had been let go
    cache.forget(send_ids[-1])
    cache.get(send_ids[-1])
    assert len(preparations) == len(send_ids) + 2  # forgotten (after a pause): made again


def test_a_send_with_nothing_approved_cannot_be_prepared(
    tmp_path: Path, db: Database, admin_user: User
) -> None:
    config = smtp_config(tmp_path, db, 25)
    cache = prepared.PreparedSends(db, messages.settings_from(config), clock=Clock())
    with pytest.raises(prepared.SendUnusable, match="send 999999 has nothing approved"):
        cache.get(999_999)
