"""What bounce processing writes for a person to read: the outcome sentence when a
forwarded mailbox bounced, and the audit log's plain reason for stopping mail."""

from __future__ import annotations

from sqlalchemy import select

from mailer.accounts.models import User
from mailer.audit import actions
from mailer.audit.models import AuditEntry
from mailer.bounces.models import Bounce
from mailer.database import Database
from tests.bounces.helpers import delivery, dsn, record, sent_send

ALICE = "alice@example.org"


def bounce_outcome(db: Database) -> str:
    with db.transaction() as session:
        bounce = session.scalar(select(Bounce))
        assert bounce is not None
        return bounce.outcome


def test_a_bounce_from_a_forwarded_mailbox_names_where_it_was_forwarded(
    db: Database, admin_user: User
) -> None:
    send_id = sent_send(db, admin_user, [ALICE])
    row = delivery(db, send_id, ALICE)
    record(db, dsn(row, address="alice.old@elsewhere.example"))

    assert bounce_outcome(db) == (
        "Suppressed: 1 hard bounce. The report names alice.old@elsewhere.example,"
        " which the message was forwarded to."
    )


def test_a_bounce_naming_the_address_we_sent_to_adds_nothing(
    db: Database, admin_user: User
) -> None:
    send_id = sent_send(db, admin_user, [ALICE])
    record(db, dsn(delivery(db, send_id, ALICE), address="Alice@Example.org"))

    assert bounce_outcome(db) == "Suppressed: 1 hard bounce."


def test_the_audit_log_says_plainly_why_a_contact_stopped_receiving_mail(
    db: Database, admin_user: User
) -> None:
    send_id = sent_send(db, admin_user, [ALICE])
    record(db, dsn(delivery(db, send_id, ALICE)))

    with db.transaction() as session:
        entry = session.scalar(
            select(AuditEntry).where(AuditEntry.action == actions.CONTACT_BOUNCED)
        )
        assert entry is not None
        summary = entry.summary
    assert summary.endswith("stopped receiving mail: The address does not exist")
    assert summary.startswith("Contact #") and "User unknown" not in summary
