"""Wrong passwords sent at the same moment from one address are counted like the same
guesses sent in turn: no more than the limit are ever checked."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from mailer.accounts import throttling
from mailer.accounts.models import LoginAttempt, User
from mailer.database import Database
from mailer.web.security import SLEEP
from tests.concurrency import together
from tests.conftest import PASSWORD, csrf_from

PARALLEL = 16
IP = "198.51.100.23"


def _guess(client: FlaskClient, email: str, password: str) -> Callable[[], int]:
    page = client.get("/login", environ_base={"REMOTE_ADDR": IP}).get_data(as_text=True)
    data = {"email": email, "password": password, "csrf_token": csrf_from(page)}
    return lambda: client.post("/login", data=data, environ_base={"REMOTE_ADDR": IP}).status_code


def test_guesses_sent_together_check_no_more_than_the_limit(
    app: Flask, db: Database, admin_user: User
) -> None:
    app.extensions[SLEEP] = lambda _seconds: None
    calls = [
        _guess(app.test_client(), admin_user.email, f"guess number {n}") for n in range(PARALLEL)
    ]
    statuses = together(calls)
    limit = throttling.MAX_FAILURES_ACCOUNT_AND_IP
    assert sorted(statuses) == [401] * limit + [429] * (PARALLEL - limit)
    with db.transaction() as session:
        checked = session.scalar(select(func.count()).select_from(LoginAttempt))
    assert checked == limit
    # The right password from there is refused too, until the wait is over.
    assert _guess(app.test_client(), admin_user.email, PASSWORD)() == 429
