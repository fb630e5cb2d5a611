from __future__ import annotations

import pytest
from sqlalchemy import String, Text, select

from contacts import data_rights, subscriptions
from contacts.models import Contact
from mailer.accounts.models import User
from mailer.database import Base, Database
from tests.contacts.test_importing import HEADER, run_import


def all_text(db: Database) -> str:
    """Every text value in every table, joined: where an address could hide."""
    chunks: list[str] = []
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            columns = [
                c
                for c in table.columns
                if isinstance(c.type, String | Text) or c.name in ("detail",)
            ]
            for row in connection.execute(select(*columns)) if columns else []:
                chunks.extend(str(v) for v in row if v is not None)
    return "\n".join(chunks).casefold()


def test_contact_data_export(db: Database) -> None:
    run_import(
        db, f"{HEADER}\nalice@example.org,Alice,Council,Health,CEO,North,a;b\n", lists=["Partners"]
    )
    with db.transaction() as session:
        contact = session.scalar(select(Contact))
        subscriptions.unsubscribe(session, contact, send_id=3, one_click=True)
    with db.transaction() as session:
        data = data_rights.contact_data(session, session.scalar(select(Contact)))
    assert data["email"] == "alice@example.org" and data["tags"] == ["a", "b"]
    assert data["lists"][0]["name"] == "Partners"
    assert data["suppressed"]["reason"] == "unsubscribed"
    assert [h["what"] for h in data["history"]] == ["contact.unsubscribed"]


def test_erasure_leaves_only_the_keyed_hash(
    db: Database, admin_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_import(
        db, f"{HEADER}\nAlice.Smith@example.org,Alice Smith,Council,,,,\n", lists=["Partners"]
    )
    scrubbed: list[tuple[int, str]] = []
    with db.transaction() as session:
        contact = session.scalar(select(Contact))
        subscriptions.unsubscribe(session, contact, send_id=None, one_click=False)
    with db.transaction() as session:
        contact = session.scalar(select(Contact))
        contact_id = contact.id
        data_rights.erase(
            session,
            contact,
            by=session.get(User, admin_user.id),
            scrubbers=[lambda s, cid, email: scrubbed.append((cid, email))],
        )
    assert scrubbed[-1] == (contact_id, "Alice.Smith@example.org")
    text = all_text(db)
    assert "alice.smith@example.org" not in text
    assert "alice smith" not in text
    assert f"erased contact #{contact_id}" in text
    # The address cannot come back through an import.
    report = run_import(db, f"{HEADER}\nalice.smith@EXAMPLE.org,Alice,,,,,\n")
    assert report.summary_line() == "added=0 updated=0 unchanged=0 rejected=0 suppressed=1"
