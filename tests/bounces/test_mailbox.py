"""The bounce mailbox read over IMAP from a real Dovecot: DSNs, a complaint and an
out-of-office put in with IMAP APPEND, as a mail server would deliver them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from contacts import suppression
from contacts.models import ACTIVE, BOUNCED, UNSUBSCRIBED, Contact
from mailer.accounts.models import User
from mailer.bounces import mailbox
from mailer.bounces.models import Bounce
from mailer.config import Config
from mailer.database import Database
from mailer.delivery.models import BOUNCED as DELIVERY_BOUNCED
from mailer.delivery.models import SENT, Delivery
from tests.bounces.dovecot import PASSWORD, USER, Dovecot, dovecot
from tests.conftest import TEST_SECRET, add_user, make_config
from tests.delivery.helpers import START, make_send

MESSAGES = Path(__file__).parent / "messages"
# Who each test message is about: the address our delivery went to, and the Message-ID
# the message quotes.
PEOPLE = {
    "alice": "alice.gone@northshire.example.org",  # Postfix DSN, 5.1.1
    "bob": "bob.moved@police.example.org",  # Microsoft 365 NDR, 5.1.10
    "carol": "carol@mail.example.com",  # ARF abuse report
    "dave": "dave@parish.example.org",  # out of office
    "erin": "erin@quiet.example.org",  # nothing came back
}
FILES = (
    "imap-postfix-dsn.msg",
    "imap-exchange-ndr.msg",
    "imap-arf-complaint.msg",
    "imap-out-of-office.msg",
)
DONE = "Processed"


@pytest.fixture
def author(db: Database) -> User:
    return add_user(db, email="author@pcc.example.org")


@pytest.fixture
def handed_over(db: Database, author: User) -> int:
    """A send whose messages were handed over to the relay: every delivery sent, each
    with the Message-ID the test messages quote."""
    send_id = make_send(db, addresses=list(PEOPLE.values()), author=author)
    names = {address: name for name, address in PEOPLE.items()}
    with db.transaction() as session:
        for delivery in session.scalars(select(Delivery).where(Delivery.send_id == send_id)):
            delivery.message_id = f"<imap-test.{names[delivery.address]}.1@pcc.example.org>"
            delivery.state = SENT
            delivery.sent_at = START
    return send_id


def mailbox_config(tmp_path: Path, db: Database, server: Dovecot, **bounces: Any) -> Config:
    settings = {
        "imap_host": "127.0.0.1",
        "imap_port": server.port,
        "imap_security": "none",
        "imap_username": USER,
        "imap_password": PASSWORD,
        "imap_done_folder": DONE,
        **bounces,
    }
    return make_config(tmp_path, db.url, bounces=settings)


def fill(server: Dovecot) -> None:
    for name in FILES:
        server.append((MESSAGES / name).read_bytes())


def fetch(db: Database, config: Config) -> mailbox.Summary:
    return mailbox.fetch(db, config, keys=[TEST_SECRET], clock=lambda: START)


def state(db: Database) -> dict[str, tuple[str, str, bool]]:
    """Per person: the contact's status, their delivery's state, whether suppressed."""
    with db.transaction() as session:
        found = {}
        for name, address in PEOPLE.items():
            contact = session.scalar(select(Contact).where(Contact.email == address))
            assert contact is not None
            delivery = session.scalar(select(Delivery).where(Delivery.contact_id == contact.id))
            assert delivery is not None
            found[name] = (
                contact.status,
                delivery.state,
                suppression.is_suppressed(session, contact.email_key),
            )
        return found


def bounce_count(db: Database) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Bounce)) or 0


AFTER = {
    "alice": (BOUNCED, DELIVERY_BOUNCED, True),
    "bob": (BOUNCED, DELIVERY_BOUNCED, True),
    "carol": (UNSUBSCRIBED, SENT, True),
    "dave": (ACTIVE, SENT, False),
    "erin": (ACTIVE, SENT, False),
}


def test_bounced_suppressed_complainer_unsubscribed_auto_reply_left_alone(
    db: Database, tmp_path: Path, imap_server: Dovecot, handed_over: int
) -> None:
    fill(imap_server)

    summary = fetch(db, mailbox_config(tmp_path, db, imap_server))

    assert (summary.fetched, summary.recorded, summary.ignored) == (4, 3, 1)
    assert (summary.unreadable, summary.failed) == (0, 0)
    assert state(db) == AFTER
    assert imap_server.count("INBOX") == 0
    assert imap_server.count(DONE) == 4


def test_a_second_fetch_and_the_same_messages_again_change_nothing(
    db: Database, tmp_path: Path, imap_server: Dovecot, handed_over: int
) -> None:
    config = mailbox_config(tmp_path, db, imap_server)
    fill(imap_server)
    fetch(db, config)
    recorded = bounce_count(db)

    assert fetch(db, config).fetched == 0
    fill(imap_server)
    again = fetch(db, config)

    assert (again.fetched, again.recorded, again.ignored) == (4, 0, 4)
    assert bounce_count(db) == recorded == 3
    assert state(db) == AFTER
    assert imap_server.count(DONE) == 8


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_tls_checked_against_the_given_ca_and_messages_deleted_without_a_done_folder(
    db: Database, tmp_path: Path, imap_server: Dovecot, handed_over: int, security: str
) -> None:
    fill(imap_server)
    config = mailbox_config(
        tmp_path,
        db,
        imap_server,
        imap_security=security,
        imap_port=imap_server.tls_port if security == "tls" else imap_server.port,
        imap_ca_file=str(imap_server.ca_file),
        imap_done_folder="",
    )

    summary = fetch(db, config)

    assert summary.recorded == 3
    assert state(db) == AFTER
    assert imap_server.count("INBOX") == 0
    assert imap_server.folders() == {"INBOX"}


def test_a_certificate_nobody_vouches_for_is_refused(
    db: Database, tmp_path: Path, imap_server: Dovecot
) -> None:
    fill(imap_server)
    config = mailbox_config(
        tmp_path, db, imap_server, imap_security="tls", imap_port=imap_server.tls_port
    )

    with pytest.raises(mailbox.MailboxRefused) as refused:
        fetch(db, config)

    assert refused.value.key == "[bounces] imap_ca_file"
    assert "could not be verified" in refused.value.reason
    assert imap_server.count("INBOX") == 4


def test_wrong_password_and_missing_folder_name_their_keys(
    db: Database, tmp_path: Path, imap_server: Dovecot
) -> None:
    wrong = mailbox_config(tmp_path, db, imap_server, imap_password="not the password")
    with pytest.raises(mailbox.MailboxRefused) as refused:
        fetch(db, wrong)
    assert refused.value.key == "[bounces] imap_password"
    assert "not the password" not in str(refused.value)

    missing = mailbox_config(tmp_path, db, imap_server, imap_folder="Bounces")
    with pytest.raises(mailbox.MailboxRefused) as refused:
        fetch(db, missing)
    assert refused.value.key == "[bounces] imap_folder"
    assert "'Bounces'" in refused.value.reason


def test_a_server_that_cannot_be_reached_is_said_so(db: Database, tmp_path: Path) -> None:
    from tests.cli_helpers import free_port

    config = make_config(
        tmp_path,
        db.url,
        bounces={"imap_host": "127.0.0.1", "imap_port": free_port(), "imap_security": "none"},
    )
    with pytest.raises(mailbox.MailboxUnreachable) as unreachable:
        fetch(db, config)
    assert "cannot reach the IMAP server 127.0.0.1" in unreachable.value.reason


def test_an_unreadable_message_is_put_away_not_read_forever(
    db: Database, tmp_path: Path, imap_server: Dovecot, handed_over: int
) -> None:
    imap_server.append(b"\x00\x01 no header here, only bytes\r\n")
    config = mailbox_config(tmp_path, db, imap_server)

    summary = fetch(db, config)

    assert (summary.fetched, summary.unreadable) == (1, 1)
    assert imap_server.count("INBOX") == 0
    assert imap_server.count(DONE) == 1


def test_messages_stay_in_the_mailbox_while_the_database_is_down(
    db: Database, tmp_path: Path, imap_server: Dovecot, handed_over: int
) -> None:
    fill(imap_server)
    config = mailbox_config(tmp_path, db, imap_server)
    down = Database(f"sqlite:///{tmp_path / 'no such folder' / 'mailer.db'}")

    summary = mailbox.fetch(down, config, keys=[TEST_SECRET], clock=lambda: START)

    assert summary.database_down
    assert (summary.fetched, summary.failed, summary.recorded) == (1, 1, 0)
    assert imap_server.count("INBOX") == 4
    # Back up: the next poll takes them all.
    assert fetch(db, config).recorded == 3
    assert state(db) == AFTER


def test_at_most_the_limit_per_poll_in_batches(
    db: Database, tmp_path: Path, imap_server: Dovecot, handed_over: int
) -> None:
    fill(imap_server)
    config = mailbox_config(tmp_path, db, imap_server)

    first = mailbox.fetch(db, config, keys=[TEST_SECRET], clock=lambda: START, limit=3, batch=2)

    assert first.fetched == 3
    assert imap_server.count("INBOX") == 1
    assert fetch(db, config).fetched == 1
    assert state(db) == AFTER


@pytest.fixture(scope="module")
def server_without_move() -> Iterator[Dovecot]:
    from tests.bounces.conftest import _require_dovecot

    _require_dovecot()
    with dovecot(capabilities="IMAP4rev1 LITERAL+") as server:
        yield server


def test_a_server_without_move_gets_copy_and_expunge(
    db: Database, tmp_path: Path, server_without_move: Dovecot, handed_over: int
) -> None:
    server_without_move.empty()
    fill(server_without_move)

    summary = fetch(db, mailbox_config(tmp_path, db, server_without_move))

    assert summary.recorded == 3
    assert server_without_move.count("INBOX") == 0
    assert server_without_move.count(DONE) == 4


def test_a_dsn_quoting_a_huge_message_is_read_from_its_first_part(
    db: Database, tmp_path: Path, imap_server: Dovecot, handed_over: int
) -> None:
    dsn = (MESSAGES / "imap-postfix-dsn.msg").read_bytes()
    boundary = b"--4Zk1qT0m3Vz9sWq.1784538131/mx1.pcc.example.org--"
    attachment = (
        b"--4Zk1qT0m3Vz9sWq.1784538131/mx1.pcc.example.org\n"
        b"Content-Type: application/pdf\nContent-Transfer-Encoding: base64\n\n"
        + b"JVBERi0xLjQK" * (mailbox.MAX_MESSAGE // 6)
        + b"\n"
    )
    imap_server.append(dsn.replace(boundary, attachment + boundary))

    summary = fetch(db, mailbox_config(tmp_path, db, imap_server))

    assert (summary.fetched, summary.recorded) == (1, 1)
    assert state(db)["alice"] == AFTER["alice"]
