"""An import preview judges every row as the real import would, and writes nothing:
it runs in a read-only session, so a large file holds no write lock while it is read."""

from __future__ import annotations

import io
import threading
import time
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, update

from contacts import suppression
from contacts.importing import import_contacts
from contacts.models import Contact, ContactList, ListMembership
from mailer.accounts.models import User
from mailer.database import Database
from tests.contacts.import_helpers import upload_id
from tests.contacts.test_importing import HEADER, run_import

ROWS = (
    "alice@example.org,Alice Again,,,,,\n"  # known: name changes
    "bob@example.org,Bob,,,,,\n"  # known, already on Partners, nothing new
    "carol@example.org,Carol,,,,,\n"  # new
    "gone@example.org,Gone,,,,,\n"  # suppressed
    "bad,,,,,,\n"  # rejected
)


def test_a_dry_run_writes_nothing_and_tells_what_the_real_run_does(db: Database) -> None:
    with db.transaction() as session:
        partners = ContactList(name="Partners")
        alice = Contact(email="alice@example.org", email_key="alice@example.org", name="Alice")
        bob = Contact(email="bob@example.org", email_key="bob@example.org", name="Bob")
        session.add_all([partners, alice, bob])
        session.flush()
        session.add(ListMembership(list_id=partners.id, contact_id=bob.id))
        suppression.suppress(session, email_key="gone@example.org", reason="unsubscribed")
    text = f"{HEADER}\n{ROWS}"
    writes: list[str] = []

    def watch(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.split()[0].upper() in ("INSERT", "UPDATE", "DELETE", "SAVEPOINT"):
            writes.append(statement.split()[0])

    event.listen(db.engine, "before_cursor_execute", watch)
    try:
        session = db.new_session()
        try:
            dry = import_contacts(
                session, io.BytesIO(text.encode()), lists=["Partners", "Panel"], dry_run=True
            )
        finally:
            session.rollback()
            session.close()
    finally:
        event.remove(db.engine, "before_cursor_execute", watch)
    assert writes == []
    real = run_import(db, text, lists=["Partners", "Panel"])
    assert dry.summary_line() == real.summary_line()
    assert dry.summary_line() == "added=1 updated=2 unchanged=0 rejected=1 suppressed=1"
    assert dry.created_lists == real.created_lists == ["Panel"]
    assert [(r.line, r.email, r.reason) for r in dry.updates] == [
        (r.line, r.email, r.reason) for r in real.updates
    ]
    assert [r.email for r in dry.additions] == [r.email for r in real.additions]


@pytest.mark.slow
def test_a_large_preview_does_not_hold_up_other_writers(
    admin_client: FlaskClient, db: Database
) -> None:
    rows = "".join(f"user{i}@example.org,User {i},Org,,,,\n" for i in range(100_000))
    upload = upload_id(admin_client, f"{HEADER}\n{rows}".encode(), "big.csv", lists="Partners")
    answers: list[int] = []

    def preview() -> None:
        response = admin_client.get(f"/admin/contacts/import/{upload}")
        answers.append(response.status_code)

    thread = threading.Thread(target=preview)
    thread.start()
    time.sleep(0.5)
    # The write must finish while the preview is still at work: had the preview held
    # a write lock, the write would wait for its end. Judged by order, not by a time
    # limit, so a busy machine (both threads share one interpreter) cannot fail it.
    previewing_before = thread.is_alive()
    with db.writing() as session:
        session.execute(update(User).values(name=User.name))
    previewing_after = thread.is_alive()
    thread.join(timeout=120)
    assert answers == [200]
    assert previewing_before, "the preview was too quick to show anything"
    assert previewing_after, "a write waited for an import preview to finish"
