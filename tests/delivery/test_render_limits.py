"""A frozen message whose template runs past the render limits stops its send with
the limit named; the worker never hangs on it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mailer.accounts.models import User
from mailer.database import Database
from mailer.delivery.models import SEND_PAUSED, Send
from mailer.rendering import limits
from tests.delivery.helpers import Clock, make_send, smtp_config, worker
from tests.smtp_server import smtp_server

NESTED_LOOPS = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"


@pytest.mark.slow
def test_a_send_whose_template_runs_too_long_is_paused_saying_why(
    tmp_path: Path, db: Database, admin_user: User
) -> None:
    send_id = make_send(db, addresses=["a@example.org", "b@example.org"], author=admin_user)
    with db.transaction() as session:
        send = session.get(Send, send_id)
        frozen = dict(send.frozen)
        frozen["parts"] = {**frozen["parts"], "html": frozen["parts"]["html"] + NESTED_LOOPS}
        send.frozen = frozen
    with smtp_server() as server:
        config = smtp_config(tmp_path, db, server.port)
        started = time.monotonic()
        assert worker(db, config, Clock()).run_once() == 0
        assert time.monotonic() - started < limits.RENDER_SECONDS + 10
    assert server.received == []
    with db.transaction() as session:
        send = session.get(Send, send_id)
        assert send.state == SEND_PAUSED
        assert "took longer than 3 seconds to render" in send.paused_reason
