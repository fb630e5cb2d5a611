"""The list headers of real sends, through the workers to a real SMTP server: each
recipient's List-Id names the first audience list they are on, the Feedback-ID names
the send and its kind, and a mailto: List-Unsubscribe with the delivery's signed token
stands beside the https one when [bounces] address is set."""

from __future__ import annotations

from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from contacts.models import Contact, ContactList, ListMembership
from mailer.accounts.models import User
from mailer.bulletins import compose
from mailer.database import Database
from mailer.delivery import sends, verp
from mailer.delivery.models import Delivery
from tests.conftest import make_config
from tests.delivery.helpers import DOMAIN, START, Clock, worker
from tests.smtp_server import FaultySmtp, smtp_server


@pytest.fixture
def server() -> Iterator[FaultySmtp]:
    with smtp_server() as handler:
        yield handler


def test_each_recipient_gets_their_lists_list_id_and_both_unsubscribe_ways(
    tmp_path: Path, db: Database, server: FaultySmtp, admin_user: User
) -> None:
    config = make_config(
        tmp_path,
        db.url,
        mail={
            "transport": "smtp",
            "from_address": f"Northshire PCC <news@{DOMAIN}>",
            "list_id": f"stakeholders.{DOMAIN}",
            "feedback_id": "npcc",
        },
        smtp={"host": "127.0.0.1", "port": server.port, "security": "none", "timeout": "5s"},
        bounces={"address": f"bounces@{DOMAIN}"},
    )
    with db.transaction() as session:
        partners = ContactList(name="Partners: Zoë's forum")
        panel = ContactList(name="Police and Crime Panel")
        session.add_all([partners, panel])
        both = Contact(email="both@example.org", email_key="both@example.org", name="Both")
        only = Contact(email="panel@example.org", email_key="panel@example.org", name="Panel")
        session.add_all([both, only])
        session.add_all(
            [
                ListMembership(list=panel, contact=both),
                ListMembership(list=partners, contact=both),
                ListMembership(list=panel, contact=only),
            ]
        )
        session.flush()
        bulletin = compose.create(
            session,
            compose.Draft(
                kind="bulletin",
                template_id=None,
                subject="News",
                preheader="",
                body_markdown="Hello.",
            ),
            by=session.get(User, admin_user.id),
        )
        send = sends.create(
            session, bulletin, audience={"lists": [panel.id, partners.id]}, due_at=START
        )
        sends.make_due(session, send, now=START, domain=DOMAIN)
        send_id, first = send.id, min(partners.id, panel.id)
        names = {partners.id: "Partners: Zoë's forum", panel.id: "Police and Crime Panel"}
        deliveries = {
            d.address: d.id for d in session.query(Delivery).filter(Delivery.send_id == send_id)
        }

    assert worker(db, config, Clock()).run_once() == 2
    received = {
        r.recipients[0]: BytesParser(policy=policy.default).parsebytes(r.data)
        for r in server.received
    }
    base = f"stakeholders.{DOMAIN}"
    # "both" is on the two lists: the first (lowest id) names their copy.
    # (The name that is not ASCII is sent as encoded words, read back as written.)
    assert str(received["both@example.org"]["List-Id"]) == (f"{names[first]} <list-{first}.{base}>")
    assert str(received["panel@example.org"]["List-Id"]) == (
        f"Police and Crime Panel <list-{panel.id}.{base}>"
    )
    for address, message in received.items():
        assert message["Feedback-ID"] == f"{send_id}:bulletin:stakeholder-mailer:npcc"
        assert message["Precedence"] == "bulk"
        mailto = verp.unsubscribe_mailto(
            f"bounces@{DOMAIN}", deliveries[address], keys=[config.app.secret_key]
        )
        unsubscribe = str(message["List-Unsubscribe"]).strip()
        assert unsubscribe.startswith(f"<{mailto}>, <http")  # the https one in production
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
