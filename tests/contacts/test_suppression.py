from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from contacts import suppression
from contacts.models import SystemKey
from mailer.database import Database


def test_the_key_is_made_by_the_migration_and_hashes_are_stable(db: Database) -> None:
    with db.transaction() as session:
        key = session.scalar(select(SystemKey.value).where(SystemKey.name == "suppression"))
        first = suppression.address_hash(session, "alice@example.org")
    assert key is not None and len(key) == 64
    with db.transaction() as session:  # a new session reads the same key
        assert suppression.address_hash(session, "alice@example.org") == first
        assert suppression.address_hash(session, "bob@example.org") != first
    assert "alice" not in first


def test_a_missing_key_is_a_clear_error_not_a_new_key(db: Database) -> None:
    with db.transaction() as session:
        saved = session.scalar(select(SystemKey).where(SystemKey.name == "suppression"))
        value = saved.value
        session.execute(delete(SystemKey))
    try:
        with pytest.raises(RuntimeError, match="run `mailer init`"), db.transaction() as s:
            suppression.address_hash(s, "alice@example.org")
    finally:
        with db.transaction() as session:
            session.add(SystemKey(name="suppression", value=value))
