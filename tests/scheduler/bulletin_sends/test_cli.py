"""``mailer bulletin ...`` as an operator runs it: a general bulletin written, sent to
an audience of lists, a tag, an area and an excluded list, refused for its author,
approved by another user, and delivered by the real scheduler and workers to a real
SMTP server: exactly the expected people, once each, not before its time, leaving out
someone who unsubscribed between approval and sending."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from contacts import subscriptions
from contacts.models import Contact
from mailer.accounts.models import User
from mailer.app import create_app
from mailer.bulletins.models import Bulletin
from mailer.config import load_config
from mailer.database import Database, utcnow
from scheduler.bulletin_sends import reuse
from tests.scheduler.test_cli import Done, mailer, write_config
from tests.scheduler.test_runner import running, wait_for
from tests.smtp_server import smtp_server

PASSWORD = "correct horse battery staple\n"

# (address, lists, area, tags): who is where.
PEOPLE = [
    ("p0@example.org", ("Partners",), "North", "youth"),  # in
    ("p1@example.org", ("Partners", "Press"), "North", "youth"),  # excluded list
    ("p2@example.org", ("Partners",), "South", "youth"),  # another area
    ("p3@example.org", ("Partners",), "North", ""),  # no tag
    ("p4@example.org", ("Partners",), "North", "youth;sport"),  # unsubscribes later
    ("c0@example.org", ("Councils",), "north", "Youth"),  # in (any case)
    ("c1@example.org", ("Councils",), "North", "sport"),  # another tag
    ("x0@example.org", ("Others",), "North", "youth"),  # on no list chosen
]
EXPECTED = ["c0@example.org", "p0@example.org"]


STAFF = {"admin@example.org", "editor@example.org", "approver@example.org"}


def _to_contacts(received: list[Any]) -> list[Any]:
    """The bulletin's messages, leaving out the review notices sent to staff."""
    return [m for m in received if m.recipients[0] not in STAFF]


def _subject(message: Any) -> str:
    parsed = message_from_bytes(message.data, policy=email_policy.default)
    return str(parsed["Subject"])


def office(config: Path) -> None:
    for email, role in (
        ("admin@example.org", "admin"),
        ("editor@example.org", "editor"),
        ("approver@example.org", "approver"),
    ):
        done = mailer(config, "users", "add", email, "--role", role, "--password-stdin",
                      stdin=PASSWORD)  # fmt: skip
        assert done.returncode == 0, done.stderr
    for name in ("Partners", "Press", "Councils", "Others"):
        rows = [p for p in PEOPLE if name in p[1]]
        csv = config.parent / f"{name}.csv"
        csv.write_text(
            "email,name,area,tags\n"
            + "".join(f'{a},Person {a[:2]},{area},"{tags}"\n' for a, _l, area, tags in rows)
        )
        done = mailer(config, "contacts", "import", str(csv), "--list", name)
        assert done.returncode == 0, done.stderr


def create(config: Path, by: str = "admin@example.org") -> str:
    body = config.parent / "march.md"
    body.write_text("Hello partners.\n\nRead [the plan](https://example.org/plan).\n")
    done = mailer(config, "bulletin", "create", "--subject", "Stakeholder Special: March",
                  "--body-file", str(body), "--preheader", "News", "--by", by)  # fmt: skip
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert last.isdigit()
    return last


AUDIENCE = ("--list", "Partners", "--list", "Councils", "--tag", "youth", "--area", "North",
            "--exclude-list", "Press")  # fmt: skip


def schedule(config: Path, bid: str, *extra: str) -> Done:
    return mailer(config, "bulletin", "schedule", bid, *extra, "--by", "editor@example.org")


def test_schedule_refuses_unknown_names_and_an_empty_audience(tmp_path: Path, db: Database) -> None:
    config = write_config(tmp_path, db)
    office(config)
    bid = create(config)
    for extra, words in (
        (("--list", "Nobody"), 'There is no list called "Nobody"'),
        (("--list", "Partners", "--tag", "nope"), 'No contact has the tag "nope"'),
        (("--list", "Partners", "--area", "Mars"), 'No contact is in the area "Mars"'),
        (("--org-type", "Aliens"), 'There is no organisation type called "Aliens"'),
        ((), "Choose at least one list"),
        (("--list", "Press", "--exclude-list", "Press"), "Nobody would receive it"),
        (("--list", "Partners", "--at", "2020-01-01T09:00"), "has passed"),
    ):
        done = schedule(config, bid, *extra)
        assert done.returncode == 1, (extra, done.stdout, done.stderr)
        assert words in done.stderr, (extra, done.stderr)
    bad = schedule(config, bid, "--list", "Partners", "--at", "next week")
    assert bad.returncode == 2 and "is not a date and time" in bad.stderr
    assert (
        mailer(config, "bulletin", "approve", bid, "--by", "approver@example.org").returncode == 1
    )
    shown = json.loads(mailer(config, "bulletin", "show", bid, "--json").stdout)
    assert shown["sends"] == [] and shown["state"] == "draft"
    unknown = mailer(config, "bulletin", "show", "999")
    assert unknown.returncode == 1 and "no bulletin" in unknown.stderr


@pytest.mark.slow
def test_a_bulletin_reaches_exactly_its_audience_once_each_at_its_time(
    tmp_path: Path, db: Database
) -> None:
    with smtp_server() as server:
        path = write_config(tmp_path, db, server.port)
        office(path)
        bid = create(path)
        at = (datetime.now(UTC) + timedelta(seconds=8)).replace(microsecond=0)
        scheduled = schedule(path, bid, *AUDIENCE, "--at", at.isoformat())
        assert scheduled.returncode == 0, scheduled.stderr
        # p0, p4 and c0: the count a person reads before approving.
        assert scheduled.stdout.strip().splitlines()[-1] == "3"

        own = mailer(path, "bulletin", "approve", bid, "--by", "admin@example.org")
        assert own.returncode == 1
        assert "You (admin@example.org) wrote this bulletin" in own.stderr
        assert "two-person rule" in own.stderr
        editor = mailer(path, "bulletin", "approve", bid, "--by", "editor@example.org")
        assert editor.returncode == 1 and "only an approver or an admin" in editor.stderr
        approved = mailer(path, "bulletin", "approve", bid, "--by", "approver@example.org")
        assert approved.returncode == 0, approved.stderr
        again = mailer(path, "bulletin", "approve", bid, "--by", "approver@example.org")
        assert again.returncode == 1 and "no send awaiting approval" in again.stderr

        shown = json.loads(mailer(path, "bulletin", "show", bid, "--json").stdout)
        assert shown["id"] == int(bid) and shown["subject"] == "Stakeholder Special: March"
        (send,) = shown["sends"]
        assert send["state"] == "scheduled" and send["fired_at"] is None
        assert datetime.fromisoformat(send["due_at"]) == at

        # Between approval and sending, one of them leaves.
        with db.transaction() as session:
            leaver = session.scalar(select(Contact).where(Contact.email == "p4@example.org"))
            subscriptions.unsubscribe(session, leaver, send_id=None, one_click=False)

        config = load_config(path)
        with running(db, config):
            wait_for(lambda: len(_to_contacts(server.received)) >= len(EXPECTED))
            wait_for(
                lambda: (
                    json.loads(mailer(path, "bulletin", "show", bid, "--json").stdout)["sends"][0][
                        "state"
                    ]
                    == "done"
                ),
                timeout=20,
            )

    delivered = _to_contacts(server.received)
    assert Counter(m.recipients[0] for m in delivered) == dict.fromkeys(EXPECTED, 1)
    for message in delivered:
        assert message.at >= at.timestamp() - 0.5  # never before its time
    # The command line's submit and approval tell people as the buttons do: the
    # approver that it awaits them, the writers (not the approver) that it was approved.
    notices = {(m.recipients[0], _subject(m)) for m in server.received if m not in delivered}
    assert any(
        to == "approver@example.org" and "Awaiting your approval" in s for to, s in notices
    ), notices
    assert any(to == "admin@example.org" and "approved" in s.lower() for to, s in notices)
    assert not any(to == "approver@example.org" and "approved" in s.lower() for to, s in notices)
    final = json.loads(mailer(path, "bulletin", "show", bid, "--json").stdout)
    (send,) = final["sends"]
    assert send["fired_at"] is not None and final["state"] == "done"
    assert send["counts"] == {"queued": 0, "sent": 2, "failed": 0, "skipped": 1, "bounced": 0}
    assert send["audience"]["tags"] == ["youth"] and send["audience"]["areas"] == ["North"]
    assert send["clicks"] == {"https://example.org/plan": 0}
    human = mailer(path, "bulletin", "show", bid)
    assert "sent=2" in human.stdout and "skipped=1" in human.stdout

    # The link written in the body went through a tracked link; following it counts.
    text = delivered[0].data.decode("utf-8", "replace").replace("=\r\n", "")
    follow = re.search(r"/r/([A-Za-z0-9_-]+)", text)
    assert follow is not None
    app = create_app(config)
    answer = app.test_client().get(f"/r/{follow.group(1)}")
    assert answer.status_code == 302 and answer.location == "https://example.org/plan"
    clicked = json.loads(mailer(path, "bulletin", "show", bid, "--json").stdout)
    assert clicked["sends"][0]["clicks"] == {"https://example.org/plan": 1}


@pytest.mark.slow
def test_a_copy_goes_to_a_second_audience(tmp_path: Path, db: Database) -> None:
    with smtp_server() as server:
        path = write_config(tmp_path, db, server.port)
        office(path)
        bid = create(path)
        assert schedule(path, bid, "--list", "Councils").returncode == 0
        approved = mailer(path, "bulletin", "approve", bid, "--by", "approver@example.org")
        assert approved.returncode == 0, approved.stderr
        with db.transaction() as session:
            original = session.get(Bulletin, int(bid))
            editor = session.scalar(select(User).where(User.email == "editor@example.org"))
            assert original is not None and editor is not None
            copy_id = str(reuse.copy(session, original, by=editor, now=utcnow()).id)
        second = schedule(path, copy_id, "--list", "Others")
        assert second.returncode == 0, second.stderr
        # The editor made the copy, so another approves it.
        mine = mailer(path, "bulletin", "approve", copy_id, "--by", "editor@example.org")
        assert mine.returncode == 1
        approved = mailer(path, "bulletin", "approve", copy_id, "--by", "approver@example.org")
        assert approved.returncode == 0, approved.stderr
        with running(db, load_config(path)):
            wait_for(lambda: len(_to_contacts(server.received)) >= 3)
    assert Counter(m.recipients[0] for m in _to_contacts(server.received)) == {
        "c0@example.org": 1,
        "c1@example.org": 1,
        "x0@example.org": 1,
    }
