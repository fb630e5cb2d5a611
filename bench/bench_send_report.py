"""Send report benchmark: the report of one send of 1,000,000 delivery rows.

Makes one send to N contacts (default 1,000,000) with realistic states (most sent, some
failed with a reply, some skipped for each reason, a few still queued), a few hundred
unsubscribes from it (some since erased), five body links with a month of daily click
counts; then times, best and median of several runs: the report itself (its grouped
queries and a page of failures), the admin page (the view and its template, signed in)
and the whole CSV. On SQLite and, where the local server answers, PostgreSQL. Target:
the page under 300 ms on PostgreSQL. Measures only; never fails on a figure.

    .venv/bin/python bench/bench_send_report.py [--rows N] [--runs R]
"""

# The SQL below is put together from this file's own constants, never from input; the
# benchmark's user has no password anyone signs in with.
# ruff: noqa: S608, S106

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_SERVER = os.environ.get(
    "MAILER_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SEND_ID = 1
LINKS = 5
DAYS = 30

# One delivery row per contact; its state by i % 1000: 960 sent, 15 failed, 20 skipped
# (four reasons), 5 queued.
DELIVERY_STATE = """
CASE WHEN i % 1000 < 960 THEN 'sent'
     WHEN i % 1000 < 975 THEN 'failed'
     WHEN i % 1000 < 995 THEN 'skipped'
     ELSE 'queued' END
"""
SKIP_REASON = """
CASE WHEN i % 1000 >= 975 AND i % 1000 < 995 THEN
  CASE i % 4 WHEN 0 THEN 'unsubscribed' WHEN 1 THEN 'bounced'
             WHEN 2 THEN 'suppressed' ELSE 'duplicate address' END
ELSE '' END
"""
LAST_REPLY = """
CASE WHEN i % 1000 >= 960 AND i % 1000 < 975
     THEN '550 5.1.1 <person' || i || '@example.org>: user unknown' ELSE '' END
"""


def _series(dialect: str, n: int) -> str:
    """A row source of i = 1..n."""
    if dialect == "postgresql":
        return f"generate_series(1, {n}) AS s(i)"
    return (
        f"(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) "
        "SELECT i FROM s)"
    )


def populate(url: str, rows: int) -> float:
    started = time.perf_counter()
    engine = create_engine(url)
    dialect = engine.dialect.name
    now = "CURRENT_TIMESTAMP"
    series = _series(dialect, rows)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO sends (id, kind, title, audience, state, created_at, reasons, "
                "slot, label, paused_reason, paused_by_role, returned_note) VALUES "
                f"({SEND_ID}, 'bulletin', 'Stakeholder Special: December', '{{}}', 'done', "
                f"{now}, '[]', '', '', '', '', '')"
            )
        )
        # Every 400th contact unsubscribed through this send.
        c.execute(
            text(
                "INSERT INTO contacts (id, email, email_key, name, organisation, role, area, "
                "status, unsubscribed_from_send, link_key, created_at, updated_at, tags, source, "
                "lawful_basis, lawful_basis_recorded_at, legacy_links) "
                "SELECT i, 'person' || i || '@example.org', 'person' || i || '@example.org', "
                "'Person ' || i, 'Organisation ' || (i % 700), 'Officer', 'North', "
                "CASE WHEN i % 400 = 0 THEN 'unsubscribed' ELSE 'active' END, "
                f"CASE WHEN i % 400 = 0 THEN {SEND_ID} ELSE NULL END, "
                f"'k' || i, {now}, {now}, '', 'import', 'public task', {now}, false "
                f"FROM {series}"
            )
        )
        c.execute(
            text(
                "INSERT INTO deliveries (send_id, contact_id, address, state, skip_reason, "
                "attempts, lease_owner, last_reply, hard_bounce, message_id, created_at, "
                "sent_at) "
                f"SELECT {SEND_ID}, i, 'person' || i || '@example.org', {DELIVERY_STATE}, "
                f"{SKIP_REASON}, 1, '', {LAST_REPLY}, false, "
                f"'<' || i || '@pcc.example.org>', {now}, "
                f"CASE WHEN i % 1000 < 960 THEN {now} ELSE NULL END FROM {series}"
            )
        )
        # Fifty erased people who had unsubscribed from it: only their suppression says so.
        c.execute(
            text(
                "INSERT INTO suppressions (address_hash, reason, detail, contact_id, send_id, "
                f"created_at) SELECT 'erased' || i, 'erased', 'erased on request', NULL, "
                f"{SEND_ID}, {now} FROM {_series(dialect, 50)}"
            )
        )
        for link in range(1, LINKS + 1):
            c.execute(
                text(
                    "INSERT INTO tracked_links (id, token, consultation_id, send_id, kind, "
                    "target, label, created_at) VALUES (:id, :token, NULL, :send, 'body', "
                    ":target, :label, CURRENT_TIMESTAMP)"
                ),
                {
                    "id": link,
                    "token": f"tok{link}",
                    "send": SEND_ID,
                    "target": f"https://example.org/page/{link}?from=bulletin&n={link}",
                    "label": f"Link {link}",
                },
            )
            c.execute(
                text(
                    "INSERT INTO click_counts (link_id, via, day, count) "
                    f"SELECT {link}, 0, DATE '2026-11-01' + i, (i * {link}) % 97 "
                    f"FROM {_series(dialect, DAYS)}"
                    if dialect == "postgresql"
                    else "INSERT INTO click_counts (link_id, via, day, count) "
                    f"SELECT {link}, 0, date('2026-11-01', '+' || i || ' days'), "
                    f"(i * {link}) % 97 FROM {_series(dialect, DAYS)}"
                )
            )
    with engine.connect() as c:
        c = c.execution_options(isolation_level="AUTOCOMMIT")
        # VACUUM too: a table whose pages are marked all-visible, as autovacuum leaves it.
        c.execute(text("VACUUM ANALYZE" if dialect == "postgresql" else "ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


def timed(action: Callable[[], object], runs: int) -> tuple[float, float]:
    """(best, median) milliseconds of ``runs`` runs after one to warm up."""
    action()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return min(times), statistics.median(times)


def measure(url: str, rows: int, runs: int, workdir: Path) -> dict[str, tuple[float, float]]:
    from flask_login import login_user

    from mailer.accounts import roles
    from mailer.accounts.models import User
    from mailer.app import create_app
    from mailer.delivery.models import Send
    from mailer.tracking import send_report_views, send_reports
    from tests.conftest import make_config

    app = create_app(make_config(workdir, url))
    db = app.extensions["mailer.db"]
    with db.transaction() as session:
        user = User(
            email="bench@example.org",
            email_key="bench@example.org",
            role=roles.ADMIN,
            password_hash="x",
        )
        session.add(user)
        session.flush()
        user_id = user.id
    figures: dict[str, tuple[float, float]] = {}

    def report() -> None:
        with db.transaction() as session:
            found = send_reports.send_report(session, session.get(Send, SEND_ID))
            assert found.counts.recipients == rows, found.counts

    def page() -> None:
        with app.test_request_context(f"/admin/sends/{SEND_ID}/report"):
            login_user(db.session.get(User, user_id))
            body = send_report_views.send_report(SEND_ID)
            assert "Link 1" in str(body)

    def csv_file() -> None:
        with app.test_request_context(f"/admin/sends/{SEND_ID}/report.csv"):
            login_user(db.session.get(User, user_id))
            answer = send_report_views.send_report_csv(SEND_ID)
            assert b"user unknown" in answer.get_data()  # type: ignore[union-attr]

    figures["report"] = timed(report, runs)
    figures["page"] = timed(page, runs)
    figures["csv"] = timed(csv_file, max(runs // 2, 1))
    db.dispose()
    return figures


def migrated(url: str) -> None:
    from mailer import migrate
    from mailer.database import Database
    from mailer.models import register_all

    register_all()
    db = Database(url)
    migrate.upgrade(db)
    db.dispose()


def run(backend: str, url: str, rows: int, runs: int, workdir: Path) -> None:
    migrated(url)
    made = populate(url, rows)
    figures = measure(url, rows, runs, workdir)
    target = " (target < 300 ms)" if backend == "postgresql" else ""
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    print(f"[{backend}] {rows:,} delivery rows made in {made:.1f} s")
    print(f"[{backend}] load average while measured: {load} ({os.cpu_count()} cores)")
    for name, (best, median) in figures.items():
        note = target if name == "page" else ""
        print(f"[{backend}] {name}: best {best:.0f} ms, median {median:.0f} ms{note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    print(f"{args.rows:,} delivery rows for one send; {args.runs} runs each")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if args.backend in ("sqlite", "both"):
            path = workdir / "bench.db"
            run("sqlite", f"sqlite:///{path}", args.rows, args.runs, workdir)
        if args.backend in ("postgresql", "both"):
            name = f"mailer_bench_{uuid.uuid4().hex[:10]}"
            admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
            try:
                with admin.connect() as connection:
                    connection.execute(text(f'CREATE DATABASE "{name}"'))
            except Exception as exc:
                print(f"[postgresql] skipped: {exc.__class__.__name__}: {exc}")
                return
            try:
                url = make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
                run("postgresql", url, args.rows, args.runs, workdir)
            finally:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
