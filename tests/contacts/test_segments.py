"""Saved audiences: a name a team recognises for choices it makes again and again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from contacts import segments
from contacts.audience import Audience
from contacts.models import ContactList, Segment
from mailer.accounts import roles
from mailer.accounts.models import User
from mailer.audit import actions
from mailer.audit.models import AuditEntry
from mailer.database import Database
from tests.conftest import add_user

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _lists(db: Database) -> tuple[int, int]:
    with db.transaction() as session:
        partners, panel = ContactList(name="Partners"), ContactList(name="Panel")
        session.add_all([partners, panel])
        session.flush()
        return partners.id, panel.id


def _save(db: Database, user: User, name: str, audience: Audience) -> int:
    with db.transaction() as session:
        by = session.get_one(User, user.id)
        return segments.save(session, name=name, audience=audience, by=by, now=NOW).id


def _refusal(db: Database, action) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(segments.SegmentRefused) as refused, db.transaction() as session:
        action(session)
    return str(refused.value)


def test_save_rename_change_and_delete_are_audited(db: Database) -> None:
    editor = add_user(db, email="editor@example.org", role=roles.EDITOR)
    partners, panel = _lists(db)
    north = Audience.of(lists=[partners], areas=["North"], exclude_lists=[panel])
    segment_id = _save(db, editor, "  Partners in the  north ", north)
    with db.transaction() as session:
        by = session.get_one(User, editor.id)
        segment = session.get_one(Segment, segment_id)
        assert segment.name == "Partners in the north"
        assert segments.audience_of(segment) == north
        segments.rename(session, segment, name="Northern partners", by=by, now=NOW)
        segments.update(session, segment, audience=Audience.of(lists=[partners]), by=by, now=NOW)
    with db.reading() as session:
        listed = [(s.name, segments.audience_of(s)) for s in segments.all_segments(session)]
    assert listed == [("Northern partners", Audience.of(lists=[partners]))]
    with db.transaction() as session:
        segments.delete(
            session, session.get_one(Segment, segment_id), by=session.get_one(User, editor.id)
        )
    with db.reading() as session:
        assert segments.get(session, segment_id) is None
        trail = [
            (e.action, e.summary)
            for e in session.scalars(
                select(AuditEntry)
                .where(AuditEntry.target_type == "segment")
                .order_by(AuditEntry.id)
            )
        ]
    assert trail == [
        (actions.SEGMENT_SAVED, "Saved the audience 'Partners in the north'"),
        (
            actions.SEGMENT_RENAMED,
            "Renamed the saved audience 'Partners in the north' to 'Northern partners'",
        ),
        (actions.SEGMENT_CHANGED, "Changed the saved audience 'Northern partners'"),
        (actions.SEGMENT_DELETED, "Deleted the saved audience 'Northern partners'"),
    ]
    assert actions.SEGMENT_SAVED in actions.LABELS


def test_names_are_unique_whatever_their_case(db: Database) -> None:
    admin = add_user(db, email="admin@example.org", role=roles.ADMIN)
    partners, _ = _lists(db)
    audience = Audience.of(lists=[partners])
    _save(db, admin, "Élus du nord", audience)
    other = _save(db, admin, "Press", audience)

    def save_again(session) -> None:  # type: ignore[no-untyped-def]
        segments.save(
            session, name="élus DU NORD", audience=audience,
            by=session.get_one(User, admin.id), now=NOW,
        )  # fmt: skip

    def rename_onto(session) -> None:  # type: ignore[no-untyped-def]
        segments.rename(
            session, session.get_one(Segment, other), name="ÉLUS du nord",
            by=session.get_one(User, admin.id), now=NOW,
        )  # fmt: skip

    taken = (
        'There is already a saved audience called "Élus du nord": choose another name, '
        "or change that one."
    )
    assert _refusal(db, save_again) == taken
    assert _refusal(db, rename_onto) == taken
    # Its own name in another case is not a clash.
    with db.transaction() as session:
        segment = session.get_one(Segment, other)
        segments.rename(session, segment, name="PRESS", by=session.get_one(User, admin.id), now=NOW)
        assert segment.name == "PRESS"


def test_a_blank_name_or_an_audience_of_nobody_is_refused(db: Database) -> None:
    admin = add_user(db, email="admin@example.org", role=roles.ADMIN)
    partners, _ = _lists(db)

    def blank(session) -> None:  # type: ignore[no-untyped-def]
        segments.save(
            session, name="   ", audience=Audience.of(lists=[partners]),
            by=session.get_one(User, admin.id), now=NOW,
        )  # fmt: skip

    def nobody(session) -> None:  # type: ignore[no-untyped-def]
        segments.save(
            session, name="Youth", audience=Audience.of(tags=["youth"]),
            by=session.get_one(User, admin.id), now=NOW,
        )  # fmt: skip

    def too_long(session) -> None:  # type: ignore[no-untyped-def]
        segments.save(
            session, name="x" * 121, audience=Audience.of(lists=[partners]),
            by=session.get_one(User, admin.id), now=NOW,
        )  # fmt: skip

    assert _refusal(db, blank) == "Give the saved audience a name."
    assert _refusal(db, nobody).startswith("This audience reaches nobody")
    assert _refusal(db, too_long) == "A saved audience's name must be at most 120 characters."
    with db.reading() as session:
        assert segments.all_segments(session) == []


def test_only_editors_and_admins_change_saved_audiences(db: Database) -> None:
    approver = add_user(db, email="approver@example.org", role=roles.APPROVER)
    partners, _ = _lists(db)
    with pytest.raises(roles.NotAllowed), db.transaction() as session:
        segments.save(
            session, name="Partners", audience=Audience.of(lists=[partners]),
            by=session.get_one(User, approver.id), now=NOW,
        )  # fmt: skip
    with db.reading() as session:
        assert segments.all_segments(session) == []
