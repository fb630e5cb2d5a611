"""The bulletins list with thousands of bulletins: one page of the read model
(scheduler/bulletin_sends/listing.py), unfiltered, by status, by subject text and far
down the pages, with the queries each costs.

Each bulletin has a finished send with delivery rows (sent, failed, skipped), every
tenth a second send, so the status, the audience in words and the grouped counts all
do their work. Target: under 100 ms a page on either backend (the status filter costs
more: it groups every send, and sends.bulletin_id has no index); the queries a page
costs do not grow with the rows on it.

    .venv/bin/python bench/bench_bulletins_list.py [--bulletins N] [--deliveries N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, event, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contacts.models import ContactList
from mailer import migrate
from mailer.bulletins.models import Bulletin
from mailer.database import Database
from mailer.delivery.models import SEND_DONE, Delivery, Send
from mailer.email_templates import seeds
from mailer.email_templates.models import KIND_BULLETIN, EmailTemplate
from scheduler.bulletin_sends import listing

PG_SERVER = os.environ.get(
    "MAILER_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
NOW = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)


def fill(db: Database, bulletins: int, deliveries: int) -> None:
    with db.transaction() as session:
        seeds.seed_database_once(session)
        template_id = session.scalar(
            select(EmailTemplate.id).where(EmailTemplate.kind == KIND_BULLETIN).limit(1)
        )
        lists = [ContactList(name=f"List {n}") for n in range(5)]
        session.add_all(lists)
        session.flush()
        session.execute(
            insert(Bulletin),
            [
                {
                    "kind": KIND_BULLETIN,
                    "template_id": template_id,
                    "subject": f"Stakeholder Special {n}: {'youth' if n % 7 == 0 else 'news'}",
                    "preheader": "",
                    "body_markdown": "Hello",
                    "link_documents": False,
                }
                for n in range(bulletins)
            ],
        )
        ids = list(session.scalars(select(Bulletin.id)))
        rows = []
        for n, bulletin_id in enumerate(ids):
            for repeat in range(2 if n % 10 == 0 else 1):
                rows.append(
                    {
                        "bulletin_id": bulletin_id,
                        "kind": KIND_BULLETIN,
                        "title": "bench",
                        "audience": {
                            "lists": [lists[n % 5].id],
                            "organisation_types": [],
                            "tags": ["youth"],
                            "exclude_lists": [lists[(n + 1) % 5].id],
                        },
                        "state": SEND_DONE,
                        "fired_at": NOW,
                        "finished_at": NOW,
                        "due_at": NOW,
                        "slot": str(repeat),
                    }
                )
        session.execute(insert(Send), rows)
        send_ids = list(session.scalars(select(Send.id)))
        batch = []
        for send_id in send_ids:
            for d in range(deliveries):
                batch.append(
                    {
                        "send_id": send_id,
                        "address": f"p{d}@example.org",
                        "state": ("sent", "sent", "sent", "failed", "skipped")[d % 5],
                        "message_id": f"<{send_id}.{d}@bench>",
                    }
                )
            if len(batch) > 20_000:
                session.execute(insert(Delivery), batch)
                batch = []
        if batch:
            session.execute(insert(Delivery), batch)


@contextmanager
def counting(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def measure(db: Database, label: str, filters: listing.Filters, page: int) -> None:
    times = []
    for _ in range(7):
        with db.transaction() as session, counting(db) as seen:
            started = time.perf_counter()
            found = listing.listing(session, filters, page=page)
            times.append(time.perf_counter() - started)
    print(
        f"  {label:<28} {statistics.median(times) * 1000:7.1f} ms median"
        f"  ({len(found.rows)} rows of {found.total}, {len(seen)} queries)"
    )


def bench(backend: str, url: str, bulletins: int, deliveries: int) -> None:
    db = Database(url)
    migrate.upgrade(db)
    started = time.perf_counter()
    fill(db, bulletins, deliveries)
    print(
        f"{backend}: {bulletins:,} bulletins, {deliveries} deliveries a send "
        f"(filled in {time.perf_counter() - started:.1f} s); target < 100 ms a page"
    )
    measure(db, "first page", listing.Filters(), 1)
    measure(db, "status: sent", listing.Filters(status="sent"), 1)
    measure(db, "subject contains 'youth'", listing.Filters(text="youth"), 1)
    measure(db, "page 60", listing.Filters(), 60)
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bulletins", type=int, default=5_000)
    parser.add_argument("--deliveries", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        bench("sqlite", f"sqlite:///{folder}/bench.db", args.bulletins, args.deliveries)
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
        bench("postgresql", f"{base}/{name}", args.bulletins, args.deliveries)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
