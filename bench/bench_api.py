"""What the API's plumbing costs a request, through the Flask test client (no
network), on SQLite and, where the local server answers, PostgreSQL:

- ``GET /api/v1/key`` with a key: the whole road (the key looked up by its prefix and
  its hash compared, the rate limit counted, the view, the ETag, the RateLimit
  headers);
- the same JSON from a view under /api/v1 without a key: the ETag and the API's
  after-request work, without authentication;
- the same JSON from a plain Flask route outside /api: the framework alone.

The differences are what authentication with the rate limit, and the ETag, add. The
three are asked in turn, so a busy moment hits all alike. Target: authentication and
rate limit under 5 ms a request on SQLite (one indexed read).

    .venv/bin/python bench/bench_api.py [--requests N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import marshmallow as ma
from flask import Flask, jsonify
from flask_smorest import Blueprint
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mailer import migrate
from mailer.accounts import api_keys, api_scopes
from mailer.app import create_app
from mailer.config import from_mapping
from mailer.database import Database, utcnow

PG_SERVER = os.environ.get(
    "MAILER_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SECRET = "bench-secret-key-" + "x" * 32
BODY = {"name": "bench", "scopes": sorted(api_scopes.SCOPES)}


class BenchSchema(ma.Schema):
    name = ma.fields.String()
    scopes = ma.fields.List(ma.fields.String())


def _app(url: str, folder: str) -> Flask:
    config = from_mapping(
        {
            "app": {"database_url": url, "instance_dir": folder, "secret_key": SECRET},
            "api": {"rate_limit": 100_000},
        },
        environ={},
    )
    app = create_app(config)
    bare = Blueprint("bench_bare", __name__, url_prefix="/api/v1/bench-bare")

    @bare.route("")
    @bare.response(200, BenchSchema)
    def bare_view() -> dict[str, Any]:
        return BODY

    api = app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    api.register_blueprint(bare)

    @app.get("/bench-plain")
    def plain_view() -> Any:
        return jsonify(BODY)

    return app


def bench(label: str, url: str, requests: int) -> None:
    database = Database(url)
    migrate.upgrade(database)
    with database.transaction() as session:
        key = api_keys.create(
            session,
            name="bench",
            scopes=list(api_scopes.SCOPES),
            expires_at=None,
            created_by=None,
            now=utcnow(),
        ).secret
    database.dispose()
    with tempfile.TemporaryDirectory() as folder:
        app = _app(url, folder)
        client = app.test_client()
        asks = {
            "GET /api/v1/key (key, limit, ETag)": (
                "/api/v1/key",
                {"Authorization": f"Bearer {key}"},
            ),
            "same JSON under /api/v1, no key": ("/api/v1/bench-bare", {}),
            "same JSON, plain Flask route": ("/bench-plain", {}),
        }
        for path, headers in asks.values():  # warm up, and check each answers
            answer = client.get(path, headers=headers)
            assert answer.status_code == 200, (path, answer.status_code)
        took: dict[str, list[float]] = {name: [] for name in asks}
        started = time.perf_counter()
        for _ in range(requests):
            for name, (path, headers) in asks.items():
                start = time.perf_counter()
                client.get(path, headers=headers).close()
                took[name].append((time.perf_counter() - start) * 1000)
        elapsed = time.perf_counter() - started
        app.extensions["mailer.db"].dispose()
    print(f"{label}: {requests} requests of each, {elapsed:.1f} s")
    medians = {}
    for name, seen in took.items():
        medians[name] = statistics.median(seen)
        print(
            f"  {name:38} median {medians[name]:6.2f} ms   best {min(seen):6.2f} ms   "
            f"{1000 / statistics.mean(seen):7.0f} requests/s"
        )
    names = list(asks)
    print(
        f"  authentication + rate limit: {medians[names[0]] - medians[names[1]]:+.2f} ms "
        "(target < 5 ms)"
    )
    print(
        f"  ETag and the API's after-request work: {medians[names[1]] - medians[names[2]]:+.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        bench("sqlite", f"sqlite:///{folder}/bench.db", args.requests)
    name = f"mailer_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # no local server: SQLite only
        print(f"postgresql: skipped ({exc.__class__.__name__})")
        return
    try:
        base = PG_SERVER.rsplit("/", 1)[0]
        bench("postgresql", f"{base}/{name}", args.requests)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
