"""Delivery benchmark: N personalised Stakeholder Specials through the real pipeline,
against the transport's own ceiling measured in the same run.

- pipeline: contacts on a list, a bulletin, a send made due (one delivery row each),
  then the workers as `mailer worker` runs them ([smtp] connections threads, each with
  a kept-open connection): claim under a lease, render, MIME, SMTP, per-message commit.
- ceiling: the same number of pre-rendered messages pushed through the same transport
  with the same number of connections, no database. The workers' SMTP transport keeps
  its connections in a sender process beside the worker process
  (mailer/delivery/sender.py), so the ceiling does too; smtplib called in one process,
  without it, is measured as well and the pipeline's ratio to it printed beside.
Both run in two layouts, each against its own ceiling: the 4 connections as threads of
one process (what `mailer run` does) and spread over one process per core (what an
operator runs for a large list: several `mailer worker` processes, here each with
[smtp] connections = 4 / processes). The ceiling of each layout is measured the same
way (same processes, same threads, same connections), so each ratio compares like
with like.
- naive: what a simple mailer does: the template and premailer for every message, and
  a new SMTP connection for every message.
Each phase runs in its own processes, so a peak memory (ru_maxrss) is its own; the
pipeline's is the largest worker process's, its sender process's printed beside it
(setting up the contacts is the benchmark's scaffolding, printed apart). The sink
is postfix's smtp-sink when installed (`apt-get install postfix`), else aiosmtpd in a
separate process. DKIM is off for the ratios; the DKIM line shows the rate with it on.

    .venv/bin/python bench/bench_delivery.py [--messages 20000] [--memory]

Targets: pipeline >= 0.6 of the ceiling on SQLite and >= 0.5 on PostgreSQL,
>= 5 x the naive baseline, peak memory < 150 MB at 100,000 recipients and within 15 %
of the figure at 10,000 (--memory). Measures only; never fails on a figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mailer.config import Config
    from mailer.delivery.sender import SenderProcess

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_SERVER = os.environ.get(
    "MAILER_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
CONNECTIONS = 4
DOMAIN = "bench.example.org"
BODY = (
    "I am pleased to share my **draft plan**. Its priorities:\n\n"
    "- prevent and tackle crime\n- safer roads\n\n"
    "Read [the summary](https://www.northshire-pcc.example.org/summary).\n"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_sink() -> tuple[subprocess.Popen[bytes], int, str]:
    port = free_port()
    if shutil.which("smtp-sink"):
        command = ["smtp-sink", "-u", "nobody", "-c", f"127.0.0.1:{port}", "256"]
        name = "postfix smtp-sink"
    else:
        command = [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                   "-c", "aiosmtpd.handlers.Sink"]  # fmt: skip
        name = "aiosmtpd Sink (install postfix for smtp-sink)"
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process, port, name
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the SMTP sink did not start")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- phases (each in its own process) ---------------------------------------------------


def _config(
    url: str, port: int, workdir: Path, *, dkim_key: str | None, connections: int
) -> Config:
    from mailer.config import from_mapping

    data = {
        "app": {"database_url": url, "instance_dir": str(workdir / "instance"),
                "secret_key": "bench-secret-" + "x" * 40},
        "mail": {"transport": "smtp", "from_address": f"Northshire PCC <news@{DOMAIN}>"},
        "smtp": {"host": "127.0.0.1", "port": port, "security": "none",
                 "connections": connections, "timeout": "30s"},
    }  # fmt: skip
    if dkim_key:
        data["dkim"] = {"domain": DOMAIN, "selector": "mail", "private_key_file": dkim_key}
    return from_mapping(data, environ={})


def _dkim_key(workdir: Path) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = workdir / "dkim.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(path)


def _await_go() -> None:
    """Tell the parent this process is ready, then wait for its word to start."""
    print("ready", flush=True)
    sys.stdin.readline()


def phase_setup(url: str, count: int) -> dict:
    """The contacts, a bulletin and a send made due: one delivery row per recipient."""
    from sqlalchemy import insert

    from contacts.models import Contact, ContactList, ListMembership
    from mailer.accounts import service as accounts
    from mailer.bulletins import compose
    from mailer.database import Database, utcnow
    from mailer.models import register_all

    register_all()  # every model mapped, as the app and the CLI do
    from mailer.delivery import sends
    from mailer.delivery.models import Send
    from mailer.email_templates.seeds import seed_database_once

    db = Database(url)  # migrated by the parent: Alembic is not part of what is measured
    with db.transaction() as session:
        seed_database_once(session)
        author = accounts.create_user(
            session, email="bench@example.org", password=uuid.uuid4().hex,
            role="admin", name="Bench", by_label="bench",
        )  # fmt: skip
        partners = ContactList(name="Partners")
        session.add(partners)
        session.flush()
        list_id = partners.id
    with db.transaction() as session:
        now = utcnow()
        for start in range(0, count, 5000):
            rows = [
                {"id": n + 1, "email": f"person{n}@example.org",
                 "email_key": f"person{n}@example.org",
                 "name": f"Person {n} Ó'Brien", "organisation": f"Organisation {n % 700}",
                 "created_at": now, "updated_at": now, "lawful_basis_recorded_at": now}
                for n in range(start, min(start + 5000, count))
            ]  # fmt: skip
            session.execute(insert(Contact), rows)
            session.execute(
                insert(ListMembership),
                [{"list_id": list_id, "contact_id": r["id"], "joined_at": now} for r in rows],
            )
        bulletin = compose.create(
            session,
            compose.Draft(kind="bulletin", template_id=None, subject="Stakeholder Special",
                          preheader="News for partners", body_markdown=BODY),
            by=session.get_one(type(author), author.id),
        )  # fmt: skip
        send = sends.create(session, bulletin, audience={"lists": [list_id]}, due_at=now)
        send_id = send.id
    started = time.perf_counter()
    with db.transaction() as session:
        sends.make_due(session, session.get_one(Send, send_id), now=utcnow(), domain=DOMAIN)
    rows_seconds = time.perf_counter() - started
    db.dispose()
    return {"rows_seconds": rows_seconds, "peak_mb": peak_mb()}


def phase_work(url: str, port: int, workdir: Path, dkim: bool, connections: int) -> dict:
    """One worker process, as `mailer worker --once` runs: [smtp] connections threads."""
    from mailer.database import Database
    from mailer.models import register_all

    register_all()  # every model mapped, as the app and the CLI do
    from mailer.delivery import pool

    key = str(workdir / "dkim.pem") if dkim else None
    config = _config(url, port, workdir, dkim_key=key, connections=connections)
    db = Database(url)
    senders = SenderPeak()
    _await_go()
    sent = pool.run_once(db, config)
    finished = time.time()
    db.dispose()
    return {"sent": sent, "finished": finished, "peak_mb": peak_mb(), "sender_mb": senders.stop()}


class SenderPeak:
    """The peak memory of the sender processes the workers start. Read off
    /proc/<pid>/status (VmHWM: the peak since it started its own program) while they
    live: the rusage of a finished child would count the worker's memory it was forked
    with."""

    def __init__(self) -> None:
        from mailer.delivery import pool

        self.senders: list[SenderProcess] = []
        self.peak_kb = 0
        self._done = threading.Event()
        real = pool.sender_for

        def sender_for(config: Config) -> SenderProcess | None:
            sender = real(config)
            if sender is not None:
                self.senders.append(sender)
            return sender

        pool.sender_for = sender_for
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._done.wait(0.05):
            for pid in filter(None, (sender.pid for sender in self.senders)):
                try:
                    with open(f"/proc/{pid}/status") as status:
                        for line in status:
                            if line.startswith("VmHWM:"):
                                self.peak_kb = max(self.peak_kb, int(line.split()[1]))
                except OSError:
                    continue  # it has exited

    def stop(self) -> float:
        self._done.set()
        self._thread.join()
        return self.peak_kb / 1024


def phase_push(port: int, count: int, connections: int, mode: str) -> dict:
    """The ceiling: pre-rendered messages through the same transport, no database.
    ``sender``: the workers' transport, SMTP connections in a sender process;
    ``direct``: smtplib in this process (for comparison)."""
    from datetime import timedelta

    from mailer.config import SmtpSection
    from mailer.delivery.sender import SenderProcess
    from mailer.delivery.smtp import SmtpTransport
    from mailer.rendering.prepare import Recipient
    from tests.rendering.conftest import links, prepared

    message = prepared("bulletin")
    distinct = min(count, 1000)  # the transport's cost does not depend on distinctness
    data = [
        message.personalise(
            Recipient(f"person{n}@example.org", f"Person {n}", "Org", links=links(f"t{n}")),
            message_id=f"<{n}.ceiling@{DOMAIN}>",
        )
        for n in range(distinct)
    ]
    counter = iter(range(count))
    lock = threading.Lock()
    settings = SmtpSection(host="127.0.0.1", port=port, security="none",
                           timeout=timedelta(seconds=30))  # fmt: skip
    sender = SenderProcess(settings) if mode == "sender" else None

    def push() -> None:
        smtp = sender.transport() if sender else SmtpTransport.from_config(settings)
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            smtp.send(sender=f"news@{DOMAIN}", recipient=f"person{n}@example.org",
                      data=data[n % distinct])  # fmt: skip
        smtp.close()

    threads = [threading.Thread(target=push) for _ in range(connections)]
    _await_go()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    finished = time.time()
    if sender:
        sender.close()
    return {"finished": finished, "peak_mb": peak_mb()}


def phase_naive(port: int, count: int) -> dict:
    """Template, premailer and a new SMTP connection for every message."""
    import smtplib
    from email.message import EmailMessage

    import premailer

    from mailer.email_templates.seeds import seed_parts
    from mailer.rendering.placeholders import Markers, personal_namespace
    from mailer.rendering.sandbox import environment
    from tests.rendering.conftest import build_context

    parts = seed_parts("bulletin")
    values = build_context("bulletin")
    html_env, text_env = environment(True), environment(False)
    started = time.perf_counter()
    for n in range(count):
        namespace = personal_namespace(Markers())  # stands in for per-person values
        context = {**values, "contact": {"name": f"Person {n}", "email": f"p{n}@example.org",
                   "organisation": "Org", "role": ""},
                   "links": {**values["links"], **{k: f"https://x.example.org/{k}/{n}"
                             for k in namespace["links"]}}}  # fmt: skip
        context["message"] = {**context["message"], "subject": "S", "preheader": "P"}
        html = premailer.transform(html_env.from_string(parts.html).render(context))
        text = text_env.from_string(parts.text).render(context)
        message = EmailMessage()
        message["From"] = f"news@{DOMAIN}"
        message["To"] = f"person{n}@example.org"
        message["Subject"] = "Stakeholder Special"
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            client.send_message(message)
    elapsed = time.perf_counter() - started
    return {"rate": count / elapsed, "peak_mb": peak_mb()}


# --- orchestration -------------------------------------------------------------------


def run_phase(*args: str) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--phase", *args],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_together(commands: list[list[str]]) -> tuple[float, list[dict]]:
    """Start the phase processes, wait until each has done its preparing, release them
    at once; returns the wall time from release to the last one's finish."""
    pipe = subprocess.PIPE
    processes = [
        subprocess.Popen(
            [sys.executable, __file__, "--phase", *args],
            cwd=ROOT, text=True, stdin=pipe, stdout=pipe, stderr=pipe,
        )
        for args in commands
    ]  # fmt: skip
    try:
        for process in processes:
            assert process.stdout is not None and process.stdin is not None
            if process.stdout.readline().strip() != "ready":
                raise RuntimeError(process.communicate()[1][-3000:])
        started = time.time()
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        results = []
        for process in processes:
            out, err = process.communicate()
            if process.returncode != 0:
                raise RuntimeError(err[-3000:])
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    return max(r["finished"] for r in results) - started, results


def ceiling(port: int, count: int, processes: int, mode: str = "sender") -> float:
    """Messages per second through the bare transport in this layout."""
    connections = CONNECTIONS // processes
    shares = [count // processes + (i < count % processes) for i in range(processes)]
    elapsed, _ = run_together(
        [["push", str(port), str(share), str(connections), mode] for share in shares]
    )
    return count / elapsed


def pipeline(url: str, port: int, count: int, workdir: Path, *, dkim: bool,
             processes: int) -> dict:  # fmt: skip
    """The whole pipeline in this layout: rows made, then every worker process."""
    setup = run_phase("setup", url, str(count))
    if dkim and not (workdir / "dkim.pem").exists():
        _dkim_key(workdir)
    connections = str(CONNECTIONS // processes)
    elapsed, results = run_together(
        [["work", url, str(port), str(workdir), "1" if dkim else "0", connections]] * processes
    )
    sent = sum(r["sent"] for r in results)
    return {
        "sent": sent,
        "rows_seconds": setup["rows_seconds"],
        "rate": sent / elapsed,
        "rate_with_rows": sent / (elapsed + setup["rows_seconds"]),
        "peak_mb": max(r["peak_mb"] for r in results),
        "sender_mb": max(r["sender_mb"] for r in results),
        "setup_peak_mb": setup["peak_mb"],
    }


def _migrated(url: str) -> str:
    from mailer import migrate
    from mailer.database import Database
    from mailer.models import register_all

    register_all()  # every model mapped, as the app and the CLI do

    db = Database(url)
    migrate.upgrade(db)
    db.dispose()
    return url


def with_database(
    backend: str,
    workdir: Path,
    # The actions are lambdas with defaults bound per loop: typed as taking anything.
    action: Callable[..., dict[str, Any]],
) -> dict[str, Any] | None:
    if backend == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:6]}.db"
        try:
            return action(_migrated(f"sqlite:///{path}"))
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"mailer_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"[postgresql] skipped: {exc.__class__.__name__}: {exc}")
        return None
    try:
        url = make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
        return action(_migrated(url))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--naive", type=int, default=400, help="messages for the baseline")
    parser.add_argument("--memory", action="store_true", help="peak memory at 10k and 100k")
    parser.add_argument("--phase", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        kind, *rest = args.phase
        if kind == "setup":
            result = phase_setup(rest[0], int(rest[1]))
        elif kind == "work":
            url, port, workdir, dkim, connections = rest
            result = phase_work(url, int(port), Path(workdir), dkim == "1", int(connections))
        elif kind == "push":
            result = phase_push(int(rest[0]), int(rest[1]), int(rest[2]), rest[3])
        else:
            result = phase_naive(int(rest[0]), int(rest[1]))
        print(json.dumps(result))
        return

    sink, port, sink_name = start_sink()
    n = args.messages
    cores = os.cpu_count() or 1
    # One process with every connection as a thread; then one process per core.
    layouts = sorted({1, min(cores, CONNECTIONS)})
    print(f"sink: {sink_name}; {CONNECTIONS} connections; {n:,} messages; {cores} cores")
    print("targets: pipeline/ceiling >= 0.6 SQLite, >= 0.5 PostgreSQL; >= 5x naive; "
          "< 150 MB at 100k, within 15 % of 10k")  # fmt: skip
    try:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            naive = run_phase("naive", str(port), str(args.naive))
            print(f"naive baseline: {naive['rate']:,.0f} msg/s (premailer and a new "
                  f"connection per message, {args.naive} messages)")  # fmt: skip
            for processes in layouts:
                layout = (f"{processes} process(es) x {CONNECTIONS // processes} "
                          "connection thread(s)")  # fmt: skip
                for backend in ("sqlite", "postgresql"):
                    top = ceiling(port, n, processes)
                    direct = ceiling(port, n, processes, "direct")
                    measured = with_database(
                        backend, workdir,
                        lambda url, p=processes: pipeline(
                            url, port, n, workdir, dkim=False, processes=p
                        ),
                    )  # fmt: skip
                    if measured is None:
                        continue
                    print(
                        f"[{backend}, {layout}] ceiling {top:,.0f} msg/s; pipeline "
                        f"{measured['rate']:,.0f} msg/s = {measured['rate'] / top:.2f} of the "
                        f"ceiling ({measured['rate'] / direct:.2f} of smtplib in one process, "
                        f"{direct:,.0f} msg/s), {measured['rate'] / naive['rate']:.1f}x naive; "
                        f"delivery rows {measured['rows_seconds']:.1f} s "
                        f"({measured['rate_with_rows']:,.0f} msg/s counting them); peak "
                        f"{measured['peak_mb']:.0f} MB per worker process, "
                        f"{measured['sender_mb']:.0f} MB its sender process"
                    )
                    dkim_n = min(n, 5000)
                    signed = with_database(
                        backend, workdir,
                        lambda url, p=processes, c=dkim_n: pipeline(
                            url, port, c, workdir, dkim=True, processes=p
                        ),
                    )  # fmt: skip
                    if signed:
                        print(f"[{backend}, {layout}] with DKIM (RSA-2048): "
                              f"{signed['rate']:,.0f} msg/s ({dkim_n:,} messages)")  # fmt: skip
            if args.memory:
                peaks = {}
                for count in (10_000, 100_000):
                    measured = with_database(
                        "sqlite", workdir,
                        lambda url, c=count: pipeline(
                            url, port, c, workdir, dkim=False, processes=1
                        ),
                    )  # fmt: skip
                    assert measured is not None  # only PostgreSQL can be skipped
                    peaks[count] = measured["peak_mb"]
                    print(f"[sqlite, 1 process] {count:,} recipients: worker peak "
                          f"{measured['peak_mb']:.0f} MB, its sender process "
                          f"{measured['sender_mb']:.0f} MB ({measured['rate']:,.0f} msg/s); "
                          "setting up the contacts: "
                          f"{measured['setup_peak_mb']:.0f} MB")  # fmt: skip
                growth = peaks[100_000] / peaks[10_000] - 1
                print(f"worker memory growth from 10k to 100k: {growth:+.0%}")
    finally:
        sink.terminate()
        sink.wait(10)


if __name__ == "__main__":
    main()
