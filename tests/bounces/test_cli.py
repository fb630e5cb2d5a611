"""``mailer bounces process -|FILE`` run as the mail server runs it: a subprocess, a
message on standard input or in a file, and an exit status the mail server acts on."""

from __future__ import annotations

from pathlib import Path

import pytest

from contacts.models import ACTIVE, BOUNCED, SUPPRESSED_BOUNCED
from mailer.accounts.models import User
from mailer.database import Database
from mailer.delivery import verp
from mailer.delivery.models import BOUNCED as DELIVERY_BOUNCED
from mailer.delivery.models import SENT, Delivery
from tests.bounces.helpers import (
    BOUNCE_ADDRESS,
    KEYS,
    contact_status,
    delivery,
    delivery_by_id,
    sent_send,
    suppressed_for,
)
from tests.cli_helpers import free_port, run_mailer
from tests.conftest import TEST_SECRET
from tests.delivery.helpers import DOMAIN

pytestmark = pytest.mark.slow

ALICE, BOB = "alice@example.org", "bob@example.org"


def write_config(tmp_path: Path, database_url: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        "[app]\n"
        f'database_url = "{database_url}"\n'
        f'secret_key = "{TEST_SECRET}"\n'
        f'instance_dir = "{tmp_path / "instance"}"\n'
        "[bounces]\n"
        f'address = "{BOUNCE_ADDRESS}"\n',
        encoding="utf-8",
    )
    return path


def postfix_dsn(row: Delivery, *, envelope: str) -> str:
    """A bounce as Postfix writes it: RFC 3464, with the original message's headers."""
    return f"""\
Return-Path: <>
Delivered-To: {envelope}
Received: by mx.{DOMAIN} (Postfix) id 4Xk2Lq0ZpQz9sWr; Tue, 20 Jul 2027 09:00:05 +0000
Date: Tue, 20 Jul 2027 09:00:05 +0000 (UTC)
From: MAILER-DAEMON@mx.{DOMAIN} (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: {envelope}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="4Xk2Lq0ZpQz9sWr.1784538005/mx.{DOMAIN}"
Message-Id: <20270720090005.4Xk2Lq0ZpQz9sWr@mx.{DOMAIN}>

This is a MIME-encapsulated message.

--4Xk2Lq0ZpQz9sWr.1784538005/mx.{DOMAIN}
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.{DOMAIN}.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<{row.address}>: host mail.example.org[192.0.2.25] said: 550 5.1.1
    <{row.address}>: Recipient address rejected: User unknown (in reply to
    RCPT TO command)

--4Xk2Lq0ZpQz9sWr.1784538005/mx.{DOMAIN}
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.{DOMAIN}
X-Postfix-Queue-ID: 4Xk2Lq0ZpQz9sWr
X-Postfix-Sender: rfc822; {envelope}
Arrival-Date: Tue, 20 Jul 2027 09:00:01 +0000 (UTC)

Final-Recipient: rfc822; {row.address}
Original-Recipient: rfc822;{row.address}
Action: failed
Status: 5.1.1
Remote-MTA: dns; mail.example.org
Diagnostic-Code: smtp; 550 5.1.1 <{row.address}>: Recipient address rejected:
    User unknown

--4Xk2Lq0ZpQz9sWr.1784538005/mx.{DOMAIN}
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: Northshire PCC <news@{DOMAIN}>
To: {row.address}
Subject: Stakeholder Special: news
Message-ID: {row.message_id}
Date: Tue, 20 Jul 2027 09:00:00 +0000

--4Xk2Lq0ZpQz9sWr.1784538005/mx.{DOMAIN}--
"""


OUT_OF_OFFICE = f"""\
Delivered-To: news@{DOMAIN}
From: Bob Example <{BOB}>
To: Northshire PCC <news@{DOMAIN}>
Subject: Automatic reply: Stakeholder Special: news
Date: Tue, 20 Jul 2027 09:03:00 +0000
Message-ID: <ooo-1@example.org>
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

I am out of the office until Monday 2 August with limited access to email.
"""


def envelope_of(row: Delivery) -> str:
    return verp.envelope_sender(BOUNCE_ADDRESS, row.id, keys=KEYS, send_id=row.send_id)


def test_a_postfix_dsn_file_bounces_the_delivery_and_counts_once(
    tmp_path: Path, db: Database, admin_user: User
) -> None:
    send_id = sent_send(db, admin_user, [ALICE, BOB])
    row = delivery(db, send_id, ALICE)
    config = write_config(tmp_path, db.url)
    message = tmp_path / "bounce.eml"
    message.write_text(postfix_dsn(row, envelope=envelope_of(row)), encoding="utf-8")

    first = run_mailer("--config", str(config), "bounces", "process", str(message), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "1 recorded, 1 suppressed"
    assert delivery_by_id(db, row.id).state == DELIVERY_BOUNCED
    assert (contact_status(db, ALICE), suppressed_for(db, ALICE)) == (BOUNCED, SUPPRESSED_BOUNCED)
    assert (contact_status(db, BOB), delivery(db, send_id, BOB).state) == (ACTIVE, SENT)

    again = run_mailer("--config", str(config), "bounces", "process", str(message), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "0 recorded, 1 already recorded"


def test_a_dsn_on_standard_input_from_the_mail_server_pipe(
    tmp_path: Path, db: Database, admin_user: User
) -> None:
    send_id = sent_send(db, admin_user, [ALICE])
    row = delivery(db, send_id, ALICE)
    config = write_config(tmp_path, db.url)
    # The token only in the envelope recipient Postfix's pipe passes (a DSN that
    # names neither the VERP address nor our Message-ID is still matched by it).
    text = postfix_dsn(row, envelope=BOUNCE_ADDRESS).replace(row.message_id, "<gone@x>")
    result = run_mailer(
        "--config",
        str(config),
        "bounces",
        "process",
        "-",
        cwd=tmp_path,
        stdin=text,
        ORIGINAL_RECIPIENT=envelope_of(row),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1 recorded, 1 suppressed"
    assert delivery_by_id(db, row.id).state == DELIVERY_BOUNCED


def test_an_out_of_office_reply_is_ignored(tmp_path: Path, db: Database, admin_user: User) -> None:
    send_id = sent_send(db, admin_user, [BOB])
    config = write_config(tmp_path, db.url)
    result = run_mailer(
        "--config", str(config), "bounces", "process", "-", cwd=tmp_path, stdin=OUT_OF_OFFICE
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ignored: an automatic reply")
    assert (contact_status(db, BOB), delivery(db, send_id, BOB).state) == (ACTIVE, SENT)


@pytest.mark.parametrize("garbage", ["", "\x00\x01\x02 not a message, no header block\n"])
def test_what_is_not_a_message_is_unreadable(tmp_path: Path, db: Database, garbage: str) -> None:
    config = write_config(tmp_path, db.url)
    result = run_mailer(
        "--config", str(config), "bounces", "process", "-", cwd=tmp_path, stdin=garbage
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("mailer: ")


def test_a_message_over_the_size_limit_is_refused(tmp_path: Path, db: Database) -> None:
    config = write_config(tmp_path, db.url)
    big = tmp_path / "big.eml"
    big.write_bytes(b"Subject: big\r\n\r\n" + b"x" * (10 * 1024 * 1024))
    result = run_mailer("--config", str(config), "bounces", "process", str(big), cwd=tmp_path)
    assert result.returncode == 1
    assert "larger than 10 MB" in result.stderr


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://mailer:s3cret@127.0.0.1:{port}/mailer",
        "sqlite:///{tmp}/no-such-folder/mailer.db",
    ],
)
def test_an_unreachable_database_asks_the_mail_server_to_try_again(
    tmp_path: Path, url: str
) -> None:
    config = write_config(tmp_path, url.format(port=free_port(), tmp=tmp_path))
    dsn = postfix_dsn(
        Delivery(id=1, send_id=1, address=ALICE, message_id="<m@x>"), envelope=BOUNCE_ADDRESS
    )
    result = run_mailer("--config", str(config), "bounces", "process", "-", cwd=tmp_path, stdin=dsn)
    assert result.returncode == 75, result.stderr
    assert "cannot reach the database" in result.stderr and "s3cret" not in result.stderr


def test_a_database_being_upgraded_asks_the_mail_server_to_try_again(tmp_path: Path) -> None:
    """New code, `mailer init` not yet run: the bounce must be kept for later, not lost."""
    from alembic import command

    from mailer import migrate

    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(migrate.alembic_config(url), "0014_review_and_office")
    config = write_config(tmp_path, url)
    dsn = postfix_dsn(
        Delivery(id=1, send_id=1, address=ALICE, message_id="<m@x>"), envelope=BOUNCE_ADDRESS
    )
    result = run_mailer("--config", str(config), "bounces", "process", "-", cwd=tmp_path, stdin=dsn)
    assert result.returncode == 75, result.stderr
    assert "mailer init" in result.stderr


def test_usage_and_configuration_errors_exit_2(tmp_path: Path, db: Database) -> None:
    config = write_config(tmp_path, db.url)
    missing = run_mailer("--config", str(config), "bounces", "process", cwd=tmp_path)
    assert missing.returncode == 2
    no_file = run_mailer(
        "--config", str(config), "bounces", "process", str(tmp_path / "nope.eml"), cwd=tmp_path
    )
    assert no_file.returncode == 2 and "cannot read" in no_file.stderr
    broken = tmp_path / "broken.toml"
    broken.write_text("[bounces]\nsoft_limit = 'many'\n", encoding="utf-8")
    bad_config = run_mailer(
        "--config", str(broken), "bounces", "process", "-", cwd=tmp_path, stdin="Subject: x\n\n"
    )
    assert bad_config.returncode == 2 and "configuration error" in bad_config.stderr


def test_help_answers(tmp_path: Path) -> None:
    group = run_mailer("bounces", "--help", cwd=tmp_path)
    assert group.returncode == 0 and "process" in group.stdout
    command = run_mailer("bounces", "process", "--help", cwd=tmp_path)
    assert command.returncode == 0
    assert "--recipient" in command.stdout and "75" in command.stdout
