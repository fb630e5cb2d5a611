"""``mailer consultation ...`` as an operator runs it, and a short consultation driven
only by the command line through a restart of ``mailer run``."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mailer.cli import cli
from mailer.database import Database
from tests.cli_helpers import free_port, mailer_env
from tests.conftest import TEST_SECRET
from tests.smtp_server import smtp_server

ADDRESSES = [f"partner{n}@example.org" for n in range(3)]


def _to_partners(received: list[Any]) -> list[Any]:
    """The consultation's messages, leaving out the review notices sent to staff."""
    return [m for m in received if m.recipients[0] in ADDRESSES]


def write_config(tmp_path: Path, db: Database, smtp_port: int = 2525) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[app]
database_url = "{db.url}"
secret_key = "{TEST_SECRET}"
instance_dir = "{tmp_path / "instance"}"
timezone = "Europe/London"

[mail]
transport = "smtp"
from_address = "Northshire PCC <news@pcc.example.org>"

[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
connections = 2

[scheduler]
quiet_hours = ""
send_on_weekends = true
holidays = ""
""",
        encoding="utf-8",
    )
    return path


class Done:
    """What a command left: its exit status and output, as a subprocess would."""

    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def mailer(config: Path, *args: str, stdin: str | None = None) -> Done:
    """The real ``mailer`` command, in this process (a new interpreter per command would
    spend a second importing); the restart test below runs real processes."""
    result = CliRunner().invoke(cli, ["--config", str(config), *args], input=stdin)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Done(result.exit_code, result.stdout, result.stderr)


def office(config: Path) -> None:
    """An editor, an approver and three partners on a list, through the CLI."""
    for email, role in (("editor@example.org", "editor"), ("approver@example.org", "approver")):
        done = mailer(config, "users", "add", email, "--role", role, "--password-stdin",
                      stdin="correct horse battery staple\n")  # fmt: skip
        assert done.returncode == 0, done.stderr
    csv = config.parent / "partners.csv"
    csv.write_text("email,name\n" + "".join(f"{a},Partner\n" for a in ADDRESSES))
    done = mailer(config, "contacts", "import", str(csv), "--list", "Partners")
    assert done.returncode == 0, done.stderr


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def create(config: Path, *extra: str, opens: str, closes: str) -> Done:
    return mailer(
        config,
        "consultation", "create",
        "--title", "Draft Police and Crime Plan",
        "--opens", opens,
        "--closes", closes,
        "--survey-url", "https://survey.example.org/plan",
        "--list", "Partners",
        "--by", "editor@example.org",
        *extra,
    )  # fmt: skip


def test_create_submit_approve_and_show_keep_the_contract(tmp_path: Path, db: Database) -> None:
    config = write_config(tmp_path, db)
    office(config)
    created = create(config, opens="2099-03-06T10:00", closes="2099-04-02")
    assert created.returncode == 0, created.stderr
    cid = created.stdout.strip().splitlines()[-1]
    assert cid.isdigit()

    shown = mailer(config, "consultation", "show", cid, "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["id"] == int(cid) and data["state"] == "draft"
    assert [s["kind"] for s in data["sends"]] == [
        "launch", "reminder", "reminder", "reminder", "close_notice",
    ]  # fmt: skip
    # Local time in, UTC out: 10:00 GMT on 6 March; the close at 23:59 BST on 2 April.
    assert data["sends"][0]["due_at"] == "2099-03-06T10:00:00Z"
    assert data["closes_at"] == "2099-04-02T22:59:00Z"
    for send in data["sends"]:
        assert send["fired_at"] is None
        assert send["counts"] == {"queued": 0, "sent": 0, "failed": 0, "skipped": 0, "bounced": 0}

    # The author cannot approve, nor can anyone before it is submitted.
    early = mailer(config, "consultation", "approve", cid, "--by", "approver@example.org")
    assert early.returncode == 1 and "Submit the consultation" in early.stderr
    submitted = mailer(config, "consultation", "submit", cid, "--by", "editor@example.org")
    assert submitted.returncode == 0, submitted.stderr
    own = mailer(config, "consultation", "approve", cid, "--by", "editor@example.org")
    assert own.returncode == 1
    assert "only an approver or an admin" in own.stderr
    approved = mailer(config, "consultation", "approve", cid, "--by", "approver@example.org")
    assert approved.returncode == 0, approved.stderr
    assert "5 send(s) scheduled" in approved.stdout
    data = json.loads(mailer(config, "consultation", "show", cid, "--json").stdout)
    assert data["state"] == "scheduled"
    assert {s["state"] for s in data["sends"]} == {"scheduled"}

    human = mailer(config, "consultation", "show", cid)
    assert "Reminder: the morning of the last day" in human.stdout


BAD_INPUT = [
    # (opens, closes, extra options, exit status, what stderr says)
    ("2099-03-06T10:00", "2099-04-02", ("--reminder", "60d"), 1, "before the consultation"),
    ("2020-03-06T10:00", "2099-04-02", (), 1, "has passed"),
    ("next tuesday", "2099-04-02", (), 2, "is not a date and time"),
    ("2099-03-06T10:00", "2099-04-02", ("--reminder", "soon"), 2, "duration"),
    ("2099-03-06T10:00", "2099-04-02", ("--survey-url", "ftp://x"), 1, "https://"),
    ("2099-03-06T10:00", "2099-04-02", ("--list", "Nobody"), 1, "no list is called 'Nobody'"),
    ("2099-03-06T10:00", "2099-04-02", ("--by", "who@example.org"), 1, "no user has"),
]


def test_bad_input_is_refused_with_the_reason_and_the_exit_status(
    tmp_path: Path, db: Database
) -> None:
    config = write_config(tmp_path, db)
    office(config)
    for opens, closes, extra, code, words in BAD_INPUT:
        done = create(config, *extra, opens=opens, closes=closes)
        assert done.returncode == code, (opens, extra, done.stdout + done.stderr)
        assert words in done.stderr, (opens, extra, done.stderr)
    listed = mailer(config, "consultation", "list")
    assert listed.stdout.strip().count("\n") == 0  # the header alone: nothing half-made


def test_a_default_reminder_before_the_opening_is_dropped_with_a_warning(
    tmp_path: Path, db: Database
) -> None:
    config = write_config(tmp_path, db)
    office(config)
    done = create(config, opens="2099-03-06T10:00", closes="2099-03-12")
    assert done.returncode == 0, done.stderr
    assert "warning: Reminder: 14 days before the close is left out" in done.stderr
    assert done.stdout.strip().splitlines()[-1].isdigit()


def test_an_approval_from_the_command_line_says_so_with_its_version_and_authors(
    tmp_path: Path, db: Database
) -> None:
    from sqlalchemy import select

    from mailer.audit.models import AuditEntry
    from scheduler.models import Consultation

    config = write_config(tmp_path, db)
    office(config)
    cid = create(config, opens="2099-03-06T10:00", closes="2099-04-02").stdout.split()[-1]
    assert (
        mailer(config, "consultation", "submit", cid, "--by", "editor@example.org").returncode == 0
    )
    approved = mailer(config, "consultation", "approve", cid, "--by", "approver@example.org")
    assert approved.returncode == 0, approved.stderr
    with db.transaction() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "consultation.approved")
        ).one()
        approved_hash = session.get(Consultation, int(cid)).approved_hash
        summary, detail = entry.summary, dict(entry.detail)
    assert f"approved (version {approved_hash[:12]})" in approved.stdout
    assert f"version {approved_hash[:12]} from the command line" in summary
    assert "made by editor@example.org (created, submitted)" in summary
    assert detail["via"] == "the command line" and detail["content_hash"] == approved_hash


def start_run(config: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mailer", "--config", str(config), "run", "--port", str(port)],
        cwd=config.parent,
        env=mailer_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until(process: subprocess.Popen[str], condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def stop_run(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0


@pytest.mark.slow
def test_a_short_consultation_goes_out_on_time_through_a_restart_of_mailer_run(
    tmp_path: Path, db: Database
) -> None:
    with smtp_server() as server:
        config = write_config(tmp_path, db, server.port)
        office(config)
        port = free_port()
        # `mailer run` is up first: an approval reaches the running scheduler by itself.
        process = start_run(config, port)
        try:
            start = datetime.now(UTC)
            # Launch at +9 s, reminder at +15 s, close at +21 s, close notice at +23 s.
            created = create(
                config,
                "--reminder", "6s",
                "--close-notice", "2s",
                opens=iso(start + timedelta(seconds=9)),
                closes=iso(start + timedelta(seconds=21)),
            )  # fmt: skip
            assert created.returncode == 0, created.stderr
            cid = created.stdout.strip().splitlines()[-1]
            submitted = mailer(config, "consultation", "submit", cid, "--by", "editor@example.org")
            assert submitted.returncode == 0, submitted.stderr
            approved = mailer(
                config, "consultation", "approve", cid, "--by", "approver@example.org"
            )
            assert approved.returncode == 0, approved.stderr
            plan = json.loads(mailer(config, "consultation", "show", cid, "--json").stdout)
            due = {
                s["kind"]: datetime.fromisoformat(s["due_at"]).timestamp() for s in plan["sends"]
            }
            wait_until(
                process,
                lambda: len(_to_partners(server.received)) >= len(ADDRESSES),
                40,
                "no launch arrived",
            )
        finally:
            stop_run(process)
        # Restarted in the middle: the reminder and the close notice still go, once.
        process = start_run(config, port)
        try:
            wait_until(
                process,
                lambda: len(_to_partners(server.received)) >= 3 * len(ADDRESSES),
                40,
                "not everything arrived",
            )
            time.sleep(1.5)  # room for a repeat to show itself
        finally:
            stop_run(process)

    parser = BytesParser(policy=policy.default)
    # Review notices to staff (submitted, approved) travel the same queue: left out.
    messages = [(m, parser.parsebytes(m.data)) for m in _to_partners(server.received)]
    assert Counter(m.recipients[0] for m, _ in messages) == dict.fromkeys(ADDRESSES, 3)
    assert len({parsed["Message-ID"] for _, parsed in messages}) == 3 * len(ADDRESSES)
    kinds = {"Have your say": "launch", "Reminder": "reminder", "Thank you": "close_notice"}
    for message, parsed in messages:
        kind = next(k for prefix, k in kinds.items() if parsed["Subject"].startswith(prefix))
        # Never early; within a few seconds of its time.
        assert due[kind] - 0.5 <= message.at <= due[kind] + 5, (kind, message.at - due[kind])
    final = json.loads(mailer(config, "consultation", "show", cid, "--json").stdout)
    for send in final["sends"]:
        assert send["fired_at"] is not None
        assert send["counts"]["sent"] == len(ADDRESSES)
