"""A DSN written by a real MTA: the product hands a message to a private Postfix,
whose relay accepts the recipient and then refuses the message (550 at the end of
DATA), so Postfix itself writes the bounce and sends it to the envelope sender, the
delivery's own bounce address (VERP). That DSN, fed to ``mailer bounces process -`` as
a Postfix pipe would, suppresses the person and marks the delivery bounced."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from contacts import suppression
from contacts.models import BOUNCED, Contact
from mailer.accounts.models import User
from mailer.config import with_overrides
from mailer.database import Database
from mailer.delivery.models import BOUNCED as DELIVERY_BOUNCED
from mailer.delivery.models import SENT, Delivery
from tests.bounces.postfix import Postfix, available, postfix
from tests.bounces.test_fetch_cli import write_config
from tests.cli_helpers import run_mailer
from tests.conftest import add_user
from tests.delivery.helpers import Clock, make_send, smtp_config, worker
from tests.smtp_server import FaultySmtp, Received, smtp_server

pytestmark = pytest.mark.slow

GONE = "gone@northshire.example.org"
BOUNCE_ADDRESS = "bounces@example.org"


@pytest.fixture
def relay() -> Iterator[FaultySmtp]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def mta(relay: FaultySmtp) -> Iterator[Postfix]:
    why_not = available()
    if why_not:
        if os.environ.get("CI"):
            pytest.fail(why_not)
        pytest.skip(why_not)
    with postfix(relay_port=relay.port) as server:
        yield server


def wait_for_bounce(relay: FaultySmtp, mta: Postfix) -> Received:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for message in relay.received:
            if message.sender in ("", "<>"):
                return message
        time.sleep(0.2)
    raise AssertionError(f"Postfix sent no bounce: {mta.log()[-3000:]}")


def delivery_and_contact(db: Database, send_id: int) -> tuple[str, str, bool, str]:
    with db.transaction() as session:
        delivery = session.scalar(select(Delivery).where(Delivery.send_id == send_id))
        assert delivery is not None
        contact = session.get(Contact, delivery.contact_id)
        assert contact is not None
        return (
            delivery.state,
            contact.status,
            suppression.is_suppressed(session, contact.email_key),
            delivery.last_reply,
        )


def test_postfix_writes_the_dsn_and_the_pipe_command_acts_on_it(
    db: Database, tmp_path: Path, relay: FaultySmtp, mta: Postfix
) -> None:
    # The relay takes the recipient, then refuses the message after DATA: the late
    # refusal a real relay turns into a bounce, which it accepts (and keeps) next.
    relay.fail("data", f"550 5.1.1 <{GONE}>: Recipient address rejected: user unknown")
    author: User = add_user(db, email="author@pcc.example.org")
    send_id = make_send(db, addresses=[GONE], author=author)
    config = with_overrides(
        smtp_config(tmp_path, db, mta.port), bounces={"address": BOUNCE_ADDRESS}
    )

    assert worker(db, config, Clock()).run_once() == 1
    assert delivery_and_contact(db, send_id)[:3] == (SENT, "active", False)

    bounce = wait_for_bounce(relay, mta)
    assert bounce.recipients[0].startswith("bounces+d")
    assert bounce.recipients[0].endswith("@example.org")
    command_config = write_config(tmp_path, db.url, f'address = "{BOUNCE_ADDRESS}"')
    pipe = ("--config", str(command_config), "bounces", "process", "-")
    piped = run_mailer(
        *pipe, "--recipient", bounce.recipients[0], cwd=tmp_path, stdin=bounce.data.decode()
    )

    assert piped.returncode == 0, piped.stderr
    state, status, suppressed, reply = delivery_and_contact(db, send_id)
    assert (state, status, suppressed) == (DELIVERY_BOUNCED, BOUNCED, True)
    assert "5.1.1" in reply

    again = run_mailer(
        *pipe, "--recipient", bounce.recipients[0], cwd=tmp_path, stdin=bounce.data.decode()
    )
    assert again.returncode == 0, again.stderr
    assert "already recorded" in again.stdout
    assert delivery_and_contact(db, send_id) == (state, status, suppressed, reply)
