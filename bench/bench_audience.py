"""Audience benchmark: counting a filtered audience over 1,000,000 contacts, and making
a send due over it.

- fill: N contacts (default 1,000,000) written in bulk into a temporary database
  (COPY on PostgreSQL, executemany on SQLite), each with an area, one to three tags, a
  status (about 3 % unsubscribed, 1 % bounced, 0.2 % erased) and an organisation
  type; two lists of partners (about 30 % and 20 % of everyone), an excluded list
  (2 %), and 1,000 manual suppressions. Setting up is scaffolding, printed apart.
- count: the audience of the issue (two lists, a tag, an area, minus the excluded
  list) counted with ``summarise`` (total, reachable, the left-out reasons, a sample of
  names: what the builder's live count asks) and with ``count_reachable`` (one plain
  count); the picker's ``known_tags`` and ``known_areas``, and ``resolve`` (the
  command line's names to ids, with its checks). The median of five runs after one
  warm-up.
- make due: ``sends.create`` and ``sends.make_due`` over that audience and over the
  two lists without narrowing (about half of everyone), each in a child process of
  its own, so its peak memory (ru_maxrss) is its own: the rate in rows per second, and
  the peak, which should not grow with the audience.

    .venv/bin/python bench/bench_audience.py [--contacts 1000000] [--backend sqlite]
        [--keep URL | --existing URL]

``--keep URL`` fills that (empty) database and keeps it; ``--existing URL`` measures
one filled before, without filling again (filling takes minutes).

Targets: count < 500 ms on PostgreSQL, < 1 s on SQLite; memory flat while making a send
due. Measures only; never fails on a figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_SERVER = os.environ.get(
    "MAILER_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
DOMAIN = "bench.example.org"
CHUNK = 20_000
TAGS = [
    "youth", "rural", "victims", "business", "faith", "health", "education", "housing",
    "transport", "night-time economy", "domestic abuse", "road safety", "drugs",
    "neighbourhood watch", "farming", "students", "older people", "disability",
    "LGBT+", "veterans",
]  # fmt: skip
AREAS = [
    "North", "South", "East", "West", "Central", "Coast", "Vale", "Forest", "Moor",
    "Riverside", "Hills", "Fens",
]  # fmt: skip
SUPPRESSED = 1_000


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _proc_status(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def reset_peak() -> float:
    """The resident size now, and the peak set back to it (Linux), so the peak read
    afterwards is the work's own: ru_maxrss survives exec and would show the parent's."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return peak_mb()
    return _proc_status("VmRSS") or peak_mb()


def work_peak_mb() -> float:
    return _proc_status("VmHWM") or peak_mb()


def _mix(n: int, shift: int) -> int:
    """A number from ``n`` that does not follow its neighbours (Knuth's multiplicative
    hash), so lists, tags and areas are spread independently of each other."""
    return ((n * 2654435761) % 2**32) >> shift


def _status(n: int) -> str:
    r = n % 1000
    if r < 30:
        return "unsubscribed"
    if r < 40:
        return "bounced"
    if r < 42:
        return "erased"
    return "active"


def _tags(n: int) -> str:
    # One to three tags, spread so each tag is held by about one contact in ten.
    m = _mix(n, 4)
    chosen = [TAGS[m % 20], TAGS[(m // 20) % 20], TAGS[(m // 400) % 20]][: 1 + (m // 8000) % 3]
    return ";".join(dict.fromkeys(chosen))


def _contacts(count: int, type_ids: list[int], now: datetime) -> Iterator[tuple[Any, ...]]:
    for n in range(1, count + 1):
        yield (
            n, uuid.uuid4().hex[:24], False, f"person{n}@example.org", f"person{n}@example.org",
            f"Person {n}", f"Organisation {n % 700}", type_ids[n % len(type_ids)], "",
            AREAS[_mix(n, 12) % len(AREAS)], _tags(n), _status(n), "import", "public task",
            now, now, now,
        )  # fmt: skip


CONTACT_COLUMNS = (
    "id", "link_key", "legacy_links", "email", "email_key", "name", "organisation",
    "organisation_type_id", "role", "area", "tags", "status", "source", "lawful_basis",
    "lawful_basis_recorded_at", "created_at", "updated_at",
)  # fmt: skip


def _members(count: int, lists: dict[str, int], now: datetime) -> Iterator[tuple[Any, ...]]:
    for n in range(1, count + 1):
        r = _mix(n, 20) % 100
        on = set()
        if r < 30:
            on.add(lists["north"])
        if 30 <= r < 50 or n % 50 == 7:  # some on both, so the union counts each once
            on.add(lists["county"])
        if n % 50 in (0, 1):
            on.add(lists["panel"])
        for list_id in sorted(on):
            yield (list_id, n, now, "import")


def _bulk(connection: Any, table: str, columns: tuple[str, ...], rows: Iterator[tuple]) -> None:
    """Rows straight through the driver: COPY on PostgreSQL, executemany on SQLite."""
    raw = connection.connection.driver_connection
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    # The table and column names are this file's own constants, never input.
    statement = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
    cursor = raw.cursor()
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(tuple(v.replace(tzinfo=None) if isinstance(v, datetime) else v for v in row))
        if len(batch) >= CHUNK:
            cursor.executemany(statement, batch)
            batch.clear()
    if batch:
        cursor.executemany(statement, batch)


def fill(url: str, count: int) -> dict[str, Any]:
    """The contacts, lists and suppressions; returns the ids the phases need."""
    from sqlalchemy import insert, select, text

    from contacts import suppression
    from contacts.models import ContactList, OrganisationType, Suppression
    from mailer.accounts import service as accounts
    from mailer.database import Database
    from mailer.email_templates.seeds import seed_database_once

    db = Database(url)
    now = datetime.now(UTC)
    with db.transaction() as session:
        seed_database_once(session)
        author = accounts.create_user(
            session, email="bench@example.org", password=uuid.uuid4().hex,
            role="admin", name="Bench", by_label="bench",
        )  # fmt: skip
        made = {k: ContactList(name=n) for k, n in (
            ("north", "North partners"), ("county", "County partners"), ("panel", "Panel"),
        )}  # fmt: skip
        session.add_all(made.values())
        session.flush()
        lists = {k: v.id for k, v in made.items()}
        type_ids = list(session.scalars(select(OrganisationType.id).order_by(OrganisationType.id)))
        author_id = author.id
    started = time.perf_counter()
    with db.engine.begin() as connection:
        _bulk(connection, "contacts", CONTACT_COLUMNS, _contacts(count, type_ids, now))
        _bulk(
            connection,
            "list_memberships",
            ("list_id", "contact_id", "joined_at", "source"),
            _members(count, lists, now),
        )
        if connection.dialect.name == "postgresql":
            high = count + 1
            connection.execute(text(f"SELECT setval('contacts_id_seq', {high})"))
    with db.transaction() as session:
        step = max(count // SUPPRESSED, 1)
        session.execute(
            insert(Suppression),
            [
                {
                    "address_hash": suppression.address_hash(session, f"person{n}@example.org"),
                    "reason": "manual",
                    "detail": "bench",
                    "contact_id": n,
                    "created_at": now,
                }
                for n in range(500, count + 1, step)
            ][:SUPPRESSED],
        )
    with db.engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    seconds = time.perf_counter() - started
    db.dispose()
    return {"lists": lists, "author_id": author_id, "fill_seconds": seconds}


def _median_ms(action: Callable[[], object], runs: int = 5) -> tuple[float, object]:
    result = action()  # warm-up: the first run reads the pages in
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def counts(url: str, ids: dict[str, Any], label: str) -> dict[str, Any]:
    from contacts import audience as audiences
    from contacts.audience import Audience
    from mailer.database import Database

    lists = ids["lists"]
    audience = Audience.of(
        lists=[lists["north"], lists["county"]],
        tags=["youth"],
        areas=["North"],
        exclude_lists=[lists["panel"]],
    )
    db = Database(url)
    figures: dict[str, Any] = {}
    with db.reading() as session:
        figures["summarise_ms"], summary = _median_ms(
            lambda: audiences.summarise(session, audience)
        )
        figures["count_ms"], plain = _median_ms(
            lambda: audiences.count_reachable(session, audience)
        )
        figures["known_tags_ms"], tags = _median_ms(lambda: audiences.known_tags(session))
        figures["known_areas_ms"], areas = _median_ms(lambda: audiences.known_areas(session))
        figures["known_complete_ms"], _ = _median_ms(lambda: audiences.known_is_complete(session))
        figures["all_tags_ms"], _ = _median_ms(
            lambda: audiences.known_tags(session, newest=None), runs=3
        )
        figures["resolve_ms"], _ = _median_ms(
            lambda: audiences.resolve(
                session,
                lists=["North partners", "County partners"],
                tags=["youth"],
                areas=["North"],
                exclude_lists=["Panel"],
            )
        )
    db.dispose()
    assert isinstance(summary, audiences.AudienceSummary)
    figures.update(
        total=summary.total,
        reachable=summary.reachable,
        plain=plain,
        left_out=summary.left_out,
        known_tags=len(tags),  # type: ignore[arg-type]
        known_areas=len(areas),  # type: ignore[arg-type]
    )
    print(
        f"[{label}] audience (2 lists, tag, area, minus a list): {summary.total:,} in it, "
        f"{summary.reachable:,} reachable, left out {summary.left_out}"
    )
    print(
        f"[{label}] summarise {figures['summarise_ms']:.0f} ms, plain count "
        f"{figures['count_ms']:.0f} ms (= {plain:,}), resolve {figures['resolve_ms']:.0f} ms, "
        f"known_tags {figures['known_tags_ms']:.0f} ms ({len(tags)} tags), "  # type: ignore[arg-type]
        f"known_areas {figures['known_areas_ms']:.0f} ms ({len(areas)} areas)"  # type: ignore[arg-type]
    )
    print(
        f"[{label}] the pickers read the newest {audiences.KNOWN_SCAN:,} contacts "
        f"(+ {figures['known_complete_ms']:.0f} ms to know whether that was all); "
        f"reading every contact's tags instead: {figures['all_tags_ms']:.0f} ms"
    )
    return figures


def phase_make_due(url: str, audience_json: str, author_id: int) -> dict[str, Any]:
    """In a child process: a send over the audience, made due; the rate and the peak."""
    from contacts.audience import Audience
    from mailer.accounts.models import User
    from mailer.bulletins import compose
    from mailer.database import Database, utcnow
    from mailer.delivery import sends
    from mailer.delivery.models import Send

    audience = Audience.from_json(json.loads(audience_json))
    db = Database(url)
    with db.transaction() as session:
        bulletin = compose.create(
            session,
            compose.Draft(kind="bulletin", template_id=None, subject="Stakeholder Special",
                          preheader="News", body_markdown="Hello **partners**."),
            by=session.get_one(User, author_id),
        )  # fmt: skip
        send = sends.create(session, bulletin, audience={}, due_at=utcnow())
        # sends.create keeps only lists and types; the whole audience is set here.
        send.audience = audience.to_json()
        send_id = send.id
    before = reset_peak()
    started = time.perf_counter()
    with db.transaction() as session:
        made = sends.make_due(session, session.get_one(Send, send_id), now=utcnow(), domain=DOMAIN)
    seconds = time.perf_counter() - started
    db.dispose()
    return {"rows": made, "seconds": seconds, "peak_mb": work_peak_mb(), "before_mb": before}


def make_due(url: str, ids: dict[str, Any], label: str) -> None:
    lists = ids["lists"]
    for name, audience in (
        (
            "filtered",
            {
                "lists": [lists["north"], lists["county"]],
                "organisation_types": [],
                "tags": ["youth"],
                "areas": ["North"],
                "exclude_lists": [lists["panel"]],
            },
        ),
        (
            "two lists in three areas",
            {
                "lists": [lists["north"], lists["county"]],
                "organisation_types": [],
                "areas": ["North", "South", "East"],
            },
        ),
    ):
        output = subprocess.run(
            [sys.executable, __file__, "--phase", url, json.dumps(audience), str(ids["author_id"])],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        got = json.loads(output.strip().splitlines()[-1])
        rate = got["rows"] / got["seconds"] if got["seconds"] else 0
        print(
            f"[{label}] make due ({name}): {got['rows']:,} delivery rows in "
            f"{got['seconds']:.2f} s = {rate:,.0f} rows/s; peak {got['peak_mb']:.0f} MB "
            f"while making rows (resident before: {got['before_mb']:.0f} MB)"
        )


def existing_ids(url: str) -> dict[str, Any]:
    from sqlalchemy import select

    from contacts.models import ContactList
    from mailer.accounts.models import User
    from mailer.database import Database

    db = Database(url)
    with db.reading() as session:
        names = dict(session.execute(select(ContactList.name, ContactList.id)).all())
        author_id = session.scalar(select(User.id).where(User.email == "bench@example.org"))
    db.dispose()
    lists = {
        "north": names["North partners"],
        "county": names["County partners"],
        "panel": names["Panel"],
    }
    return {"lists": lists, "author_id": author_id}


def _migrated(url: str) -> str:
    from mailer import migrate
    from mailer.database import Database

    db = Database(url)
    migrate.upgrade(db)
    db.dispose()
    return url


def with_database(backend: str, workdir: Path, action: Callable[[str], None]) -> None:
    if backend == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:6]}.db"
        try:
            action(_migrated(f"sqlite:///{path}"))
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"mailer_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"[postgresql] skipped: {exc.__class__.__name__}: {exc}")
        return
    try:
        action(_migrated(make_url(PG_SERVER).set(database=name).render_as_string(False)))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    from mailer.models import register_all

    register_all()  # every model mapped, as the app and the CLI do
    if len(sys.argv) > 1 and sys.argv[1] == "--phase":
        print(json.dumps(phase_make_due(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--backend", action="append", choices=("sqlite", "postgresql"))
    parser.add_argument("--no-make-due", action="store_true")
    parser.add_argument(
        "--existing",
        metavar="URL",
        help="measure a database this benchmark filled before (kept by --keep), not a new one",
    )
    parser.add_argument(
        "--keep", metavar="URL", help="fill this (empty) database and keep it afterwards"
    )
    args = parser.parse_args()
    print(
        f"{args.contacts:,} contacts; targets: count < 500 ms on PostgreSQL, < 1 s on SQLite; "
        "memory flat while making a send due"
    )

    def run(url: str, *, filled: bool = False) -> None:
        from sqlalchemy.engine import make_url

        label = make_url(url).get_backend_name()
        if filled:
            ids = existing_ids(url)
        else:
            ids = fill(url, args.contacts)
            print(
                f"[{label}] filled in {ids['fill_seconds']:.0f} s (scaffolding, not measured); "
                f"peak {peak_mb():.0f} MB"
            )
        counts(url, ids, label)
        if not args.no_make_due:
            make_due(url, ids, label)

    if args.existing:
        run(args.existing, filled=True)
        return
    if args.keep:
        run(_migrated(args.keep))
        return
    with tempfile.TemporaryDirectory(prefix="mailer-bench-") as folder:
        for backend in args.backend or ["sqlite", "postgresql"]:
            with_database(backend, Path(folder), run)


if __name__ == "__main__":
    main()
