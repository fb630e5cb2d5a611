"""Reusing bulletins as the services see it: a copy keeps its documents by stored file,
a sent bulletin copies, a draft can be deleted but a sent one only archived, and a
bulletin with a send on its way stays in the list.

Both database backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mailer.accounts import roles
from mailer.accounts.models import User
from mailer.audit.models import AuditEntry
from mailer.bulletins.models import (
    Bulletin,
    BulletinContribution,
    StoredFile,
)
from mailer.database import Database
from mailer.delivery.models import Send
from scheduler.bulletin_sends import reuse
from tests.bulletins.helpers import NOW, add_send, make_bulletin
from tests.conftest import add_user


@pytest.fixture
def writer(db: Database) -> User:
    return add_user(db, email="writer@example.org", role=roles.EDITOR)


@pytest.fixture
def copier(db: Database) -> User:
    return add_user(db, email="copier@example.org", role=roles.EDITOR)


def copy(db: Database, bulletin_id: int, by: User) -> int:
    with db.transaction() as session:
        copied = reuse.copy(
            session, session.get(Bulletin, bulletin_id), by=session.get(User, by.id), now=NOW
        )
        return copied.id


def test_a_copy_keeps_the_documents_by_stored_file_and_names_its_copier(
    db: Database, writer: User, copier: User
) -> None:
    original = make_bulletin(db, writer)
    copied = copy(db, original, copier)
    with db.transaction() as session:
        first, second = session.get(Bulletin, original), session.get(Bulletin, copied)
        assert (second.subject, second.preheader, second.body_markdown) == (
            first.subject,
            first.preheader,
            first.body_markdown,
        )
        assert (second.kind, second.template_id, second.link_documents) == (
            first.kind,
            first.template_id,
            True,
        )
        assert second.copied_from_id == original
        assert second.created_by_id == copier.id
        # The same stored file, attached again: nothing uploaded twice.
        assert [(a.file_id, a.filename, a.title) for a in second.attachments] == [
            (first.attachments[0].file_id, "plan.pdf", "The plan")
        ]
        assert session.scalar(select(func.count()).select_from(StoredFile)) == 1
        contributions = session.scalars(
            select(BulletinContribution).where(BulletinContribution.bulletin_id == copied)
        ).all()
        assert [(c.user_email, c.action) for c in contributions] == [
            ("copier@example.org", "created")
        ]
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "bulletin.copied"))
        assert entry is not None and entry.target_id == str(copied)
        assert entry.actor_label.startswith("copier@example.org")
        assert "Stakeholder Special: March" in entry.summary


def test_a_sent_bulletin_copies_as_a_draft_with_no_sends(
    db: Database, writer: User, copier: User
) -> None:
    original = make_bulletin(db, writer)
    add_send(db, original, "submit", "schedule", "fire", "finish")
    copied = copy(db, original, copier)
    with db.transaction() as session:
        assert session.scalars(select(Send).where(Send.bulletin_id == copied)).all() == []
        assert reuse.delete_refusal(session, session.get(Bulletin, copied)) is None


def test_a_draft_is_deleted_with_its_unsent_sends_but_a_sent_one_is_only_archived(
    db: Database, writer: User
) -> None:
    draft = make_bulletin(db, writer)
    never_went = add_send(db, draft)
    cancelled = add_send(db, draft, "submit", "schedule", "cancel")
    with db.transaction() as session:
        subject = reuse.delete(
            session, session.get(Bulletin, draft), by=session.get(User, writer.id), now=NOW
        )
    assert subject == "Stakeholder Special: March"
    with db.transaction() as session:
        assert session.get(Bulletin, draft) is None
        # Its sends that never went are kept, cancelled and without their bulletin, so
        # no later send is given their numbers (SQLite reuses a deleted last id).
        kept = [session.get(Send, never_went), session.get(Send, cancelled)]
        assert [(s.state, s.bulletin_id) for s in kept if s] == [("cancelled", None)] * 2
        # The stored file stays, for any other bulletin using it.
        assert session.scalar(select(func.count()).select_from(StoredFile)) == 1

    sent = make_bulletin(db, writer, attach=False)
    add_send(db, sent, "submit", "schedule", "fire", "finish")
    with db.transaction() as session:
        bulletin = session.get(Bulletin, sent)
        with pytest.raises(reuse.ReuseRefused, match=r"It was sent; archive it instead\."):
            reuse.delete(session, bulletin, by=session.get(User, writer.id), now=NOW)
    with db.transaction() as session:
        assert session.get(Bulletin, sent) is not None
        reuse.archive(
            session, session.get(Bulletin, sent), by=session.get(User, writer.id), now=NOW
        )
    with db.transaction() as session:
        assert session.get(Bulletin, sent).archived_at == NOW
        assert session.scalar(select(func.count()).where(AuditEntry.action == "bulletin.archived"))


def test_a_bulletin_with_a_send_on_its_way_is_neither_archived_nor_deleted(
    db: Database, writer: User
) -> None:
    for moves, word in (
        (("submit",), "awaiting approval"),
        (("submit", "schedule"), "scheduled"),
        (("submit", "schedule", "fire"), "sending"),
    ):
        bulletin_id = make_bulletin(db, writer, attach=False)
        add_send(db, bulletin_id, *moves)
        with db.transaction() as session:
            bulletin = session.get(Bulletin, bulletin_id)
            user = session.get(User, writer.id)
            with pytest.raises(reuse.ReuseRefused, match=f"It has a send {word}"):
                reuse.archive(session, bulletin, by=user, now=NOW)
            with pytest.raises(reuse.ReuseRefused, match=f"It has a send {word}"):
                reuse.delete(session, bulletin, by=user, now=NOW)
        with db.transaction() as session:
            assert session.get(Bulletin, bulletin_id).archived_at is None


def test_archive_and_unarchive(db: Database, writer: User) -> None:
    bulletin_id = make_bulletin(db, writer, attach=False)
    later = NOW + timedelta(days=1)
    with db.transaction() as session:
        user = session.get(User, writer.id)
        reuse.archive(session, session.get(Bulletin, bulletin_id), by=user, now=later)
        reuse.unarchive(session, session.get(Bulletin, bulletin_id), by=user)
    with db.transaction() as session:
        assert session.get(Bulletin, bulletin_id).archived_at is None
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.action.like("bulletin.%archived"))
        ).all()
        assert sorted(actions) == ["bulletin.archived", "bulletin.unarchived"]
