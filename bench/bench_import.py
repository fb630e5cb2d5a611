"""Import benchmark: 100,000 generated rows through the real `mailer contacts import`.

Prints rows per second and the importing process's peak memory (its own maximum
resident set, from wait4), on SQLite and, where the local server answers, PostgreSQL;
then a second run of the same file (every row unchanged) and the admin's contact
search at that size. Targets: at least 10,000 rows/s and under 200 MB peak
on SQLite. Measures only; never fails on a figure.

    .venv/bin/python bench/bench_import.py [--rows N]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

PG_SERVER = os.environ.get(
    "MAILER_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TYPES = [
    "Local authority",
    "Health",
    "Business",
    "Voluntary and community group",
    "Member of the public",
    "Police and Crime Panel",
    "",
]
AREAS = ["North", "South", "East", "West", "Central"]


def generate(path: Path, rows: int, invalid_share: float = 0.03) -> int:
    rng = random.Random(20261122)
    invalid = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("email,name,organisation,organisation_type,role,area,tags\r\n")
        for i in range(rows):
            if rng.random() < invalid_share:
                email = f"person{i}@@example.org"  # rejected with its line number
                invalid += 1
            else:
                email = f"person{i}@example.org"
            out.write(
                f"{email},Person {i},Organisation {i % 700},{rng.choice(TYPES)},"
                f"Officer,{rng.choice(AREAS)},t{i % 9};bench\r\n"
            )
    return invalid


def run_measured(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int, str]:
    """(seconds, peak RSS in MB, last stdout line) of one child process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    last = output.strip().splitlines()[-1] if output.strip() else ""
    return elapsed, usage.ru_maxrss // 1024, last


def bench(backend: str, url: str, csv_file: Path, rows: int, workdir: Path) -> None:
    env = {**os.environ, "MAILER_DATABASE_URL": url}
    env.pop("MAILER_CONFIG", None)
    mailer = [sys.executable, "-m", "mailer"]
    subprocess.run([*mailer, "init"], env=env, cwd=workdir, check=True, capture_output=True)
    baseline, base_mb, _ = run_measured([*mailer, "--help"], env, workdir)
    first, first_mb, summary = run_measured(
        [*mailer, "contacts", "import", str(csv_file), "--list", "Bench"], env, workdir
    )
    second, second_mb, summary2 = run_measured(
        [*mailer, "contacts", "import", str(csv_file), "--list", "Bench"], env, workdir
    )
    print(
        f"[{backend}] first import : {first:6.2f} s  {rows / first:9,.0f} rows/s  "
        f"peak {first_mb} MB   ({summary})"
    )
    print(
        f"[{backend}] second import: {second:6.2f} s  {rows / second:9,.0f} rows/s  "
        f"peak {second_mb} MB   ({summary2})"
    )
    print(f"[{backend}] (process start-up alone: {baseline:.2f} s, {base_mb} MB)")

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from contacts.directory import ContactFilter, search
    from mailer.database import Database
    from mailer.models import register_all

    register_all()  # every model mapped, as the app and the CLI do

    database = Database(url)
    for label, filters, page in (
        ("first page, no filter", ContactFilter(), 1),
        ("search 'person4242'", ContactFilter(q="person4242"), 1),
        ("tag 't3', page 100", ContactFilter(tag="t3"), 100),
        ("last page of all", ContactFilter(), rows // 50),
    ):
        with database.transaction() as session:
            started = time.perf_counter()
            result = search(session, filters, page=page)
            took = (time.perf_counter() - started) * 1000
        print(f"[{backend}] contacts page, {label:24}: {took:7.1f} ms ({result.total:,} match)")
    database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        csv_file = workdir / "contacts.csv"
        invalid = generate(csv_file, args.rows)
        print(
            f"generated {args.rows:,} rows ({invalid:,} invalid), "
            f"{csv_file.stat().st_size / 1e6:.1f} MB"
        )
        print("target: >= 10,000 rows/s and < 200 MB peak on SQLite")
        bench("sqlite", f"sqlite:///{workdir / 'bench.db'}", csv_file, args.rows, workdir)

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
            url = make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
            bench("postgresql", url, csv_file, args.rows, workdir)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
