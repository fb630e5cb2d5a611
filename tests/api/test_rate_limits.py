"""Per-key rate limits: the RateLimit header fields on every keyed answer, 429 over
the limit, each key counted on its own."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from flask import Flask

from mailer.api.rate_limits import Limiter
from mailer.database import Database
from tests.api.helpers import bearer, make_app, make_key

URL = "/api/v1/key"


@pytest.fixture
def app(tmp_path: Path, db: Database) -> Flask:
    return make_app(tmp_path, db, api={"rate_limit": 3})


def test_every_keyed_answer_says_where_the_key_stands(app: Flask, db: Database) -> None:
    key = make_key(db)
    client = app.test_client()
    answers = [client.get(URL, headers=bearer(key)) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert all(a.headers["RateLimit-Policy"] == '"default";q=3;w=60' for a in answers)
    remaining = [a.headers["RateLimit"].split(";")[1] for a in answers]
    assert remaining == ["r=2", "r=1", "r=0"]
    assert answers[0].headers["RateLimit"].startswith('"default";r=2;t=')


def test_over_the_limit_is_a_429_problem_with_retry_after(app: Flask, db: Database) -> None:
    key = make_key(db)
    client = app.test_client()
    for _ in range(3):
        client.get(URL, headers=bearer(key))
    refused = client.get(URL, headers=bearer(key))
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "3 requests" in refused.json["detail"]
    assert refused.headers["RateLimit"].startswith('"default";r=0;')


def test_each_key_has_its_own_allowance(app: Flask, db: Database) -> None:
    one, two = make_key(db, name="one"), make_key(db, name="two")
    client = app.test_client()
    for _ in range(4):
        client.get(URL, headers=bearer(one))
    assert client.get(URL, headers=bearer(two)).status_code == 200


def test_a_request_without_a_usable_key_is_not_counted_nor_told(app: Flask, db: Database) -> None:
    answer = app.test_client().get(URL)
    assert answer.status_code == 401
    assert "RateLimit" not in answer.headers


def test_a_refused_scope_still_counts_and_says_so(app: Flask, db: Database) -> None:
    from tests.api.helpers import things, with_things

    with_things(app)
    assert things.name  # the test resource needs contacts:write
    key = make_key(db, "contacts:read")
    answer = app.test_client().post("/api/v1/test-things", json={"name": "x"}, headers=bearer(key))
    assert answer.status_code == 403
    assert answer.headers["RateLimit"].startswith('"default";r=2;')


def test_the_window_ends_and_the_allowance_comes_back() -> None:
    now = [1000.0]
    limiter = Limiter(2, window=60, clock=lambda: now[0])
    assert limiter.count(1).allowed and limiter.count(1).allowed
    refused = limiter.count(1)
    assert not refused.allowed and refused.reset_seconds == 60
    now[0] += 59.5
    assert limiter.count(1).reset_seconds == 1
    now[0] += 0.5
    back = limiter.count(1)
    assert back.allowed and back.remaining == 1 and back.reset_seconds == 60


def test_threads_never_get_more_than_the_quota() -> None:
    limiter = Limiter(100)
    allowed: list[bool] = []
    lock = threading.Lock()

    def hammer() -> None:
        for _ in range(50):
            standing = limiter.count(7)
            with lock:
                allowed.append(standing.allowed)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 100
    assert len(allowed) == 400
