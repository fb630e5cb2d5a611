"""Saved audiences ("segments"): an audience with a name a team reuses, such as
"Partners in the north, not the Panel".

A segment keeps the choices (lists, types, tags, areas, exclusions), not the people:
whoever fits them when a send is made is who it reaches. Editors and admins save,
change and delete them, and each change is audited in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contacts.audience import Audience
from contacts.models import Segment
from contacts.values import clean_text
from mailer import audit
from mailer.accounts import roles
from mailer.accounts.models import User
from mailer.accounts.roles import Action
from mailer.audit import actions

NAME_MAX = 120


class SegmentRefused(Exception):
    """A saved audience cannot be made or changed; the message says why."""


def _clean_name(session: Session, name: str, *, keep: Segment | None = None) -> str:
    """The name as it will be stored, or a refusal: blank, too long, or taken (names are
    compared without regard to case, so "Press" and "press" cannot both exist)."""
    cleaned = clean_text(name or "")
    if not cleaned:
        raise SegmentRefused("Give the saved audience a name.")
    if len(cleaned) > NAME_MAX:
        raise SegmentRefused(f"A saved audience's name must be at most {NAME_MAX} characters.")
    # Segments are few: compared in Python, where case-folding knows more than ASCII
    # (SQLite's lower() does not).
    taken = next(
        (s for s in session.scalars(select(Segment)) if s.name.casefold() == cleaned.casefold()),
        None,
    )
    if taken is not None and taken is not keep:
        raise SegmentRefused(
            f'There is already a saved audience called "{taken.name}": choose another name, '
            "or change that one."
        )
    return cleaned


def _check_audience(audience: Audience) -> None:
    if audience.empty:
        raise SegmentRefused(
            "This audience reaches nobody: choose at least one list or organisation type "
            "before saving it."
        )


def save(session: Session, *, name: str, audience: Audience, by: User, now: datetime) -> Segment:
    """A new saved audience."""
    roles.require(by, Action.EDIT)
    cleaned = _clean_name(session, name)
    _check_audience(audience)
    segment = Segment(
        name=cleaned,
        audience=audience.to_json(),
        created_by_id=by.id,
        created_at=now,
        updated_at=now,
    )
    session.add(segment)
    session.flush()
    audit.record(
        session,
        actions.SEGMENT_SAVED,
        actor=by,
        target_type="segment",
        target_id=segment.id,
        summary=f"Saved the audience {cleaned!r}",
        detail={"audience": segment.audience},
    )
    return segment


def rename(session: Session, segment: Segment, *, name: str, by: User, now: datetime) -> None:
    roles.require(by, Action.EDIT)
    cleaned = _clean_name(session, name, keep=segment)
    if cleaned == segment.name:
        return
    old, segment.name, segment.updated_at = segment.name, cleaned, now
    audit.record(
        session,
        actions.SEGMENT_RENAMED,
        actor=by,
        target_type="segment",
        target_id=segment.id,
        summary=f"Renamed the saved audience {old!r} to {cleaned!r}",
    )


def update(
    session: Session, segment: Segment, *, audience: Audience, by: User, now: datetime
) -> None:
    """Change who the saved audience is. Sends already made keep the audience they were
    approved with: a send stores its own copy."""
    roles.require(by, Action.EDIT)
    _check_audience(audience)
    if Audience.from_json(segment.audience) == audience:
        return
    before = segment.audience
    segment.audience, segment.updated_at = audience.to_json(), now
    audit.record(
        session,
        actions.SEGMENT_CHANGED,
        actor=by,
        target_type="segment",
        target_id=segment.id,
        summary=f"Changed the saved audience {segment.name!r}",
        detail={"before": before, "after": segment.audience},
    )


def delete(session: Session, segment: Segment, *, by: User) -> None:
    roles.require(by, Action.EDIT)
    audit.record(
        session,
        actions.SEGMENT_DELETED,
        actor=by,
        target_type="segment",
        target_id=segment.id,
        summary=f"Deleted the saved audience {segment.name!r}",
        detail={"audience": segment.audience},
    )
    session.delete(segment)
    session.flush()


def get(session: Session, segment_id: int) -> Segment | None:
    return session.get(Segment, segment_id)


def audience_of(segment: Segment) -> Audience:
    return Audience.from_json(segment.audience)


def all_segments(session: Session) -> list[Segment]:
    """Every saved audience, by name."""
    return list(session.scalars(select(Segment).order_by(func.lower(Segment.name), Segment.id)))
