"""Blackouts: times when nothing may be sent (a pre-election period). Adding or removing
one moves the planned sends of every consultation still running to where the rules
now put them.

Every function takes a session and never commits; the caller owns the transaction."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer import audit
from mailer.accounts.models import User
from mailer.audit import actions
from scheduler.consultations import lifecycle, planning
from scheduler.models import Blackout, Consultation
from scheduler.rules import Blackout as BlackoutRule

log = logging.getLogger(__name__)
MAX_REASON = 200
# Consultations closed longer ago than this keep their timeline as it was.
REPLAN_CLOSED_WITHIN = timedelta(days=30)


class BlackoutInvalid(Exception):
    """Field name -> what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def add(
    session: Session,
    *,
    starts: datetime | None,
    ends: datetime | None,
    reason: str,
    by: User,
    config: Any,
    now: datetime,
    unreadable: Mapping[str, str] | None = None,
) -> tuple[Blackout, int]:
    """Add a blackout and move the sends it covers. ``unreadable``: what the form's
    reader could not read (the time it gives is None). Returns the blackout and how
    many sends moved."""
    errors = dict(unreadable or {})
    reason = " ".join(reason.split())[:MAX_REASON]
    if not reason:
        errors["reason"] = "Say why nothing may be sent (a pre-election period, say)."
    if starts is None or ends is None:
        errors.setdefault("starts" if starts is None else "ends", "Give a date and time.")
    elif not errors:
        try:
            BlackoutRule(starts, ends, reason)
        except ValueError as exc:
            errors["ends"] = str(exc)
    if errors or starts is None or ends is None:
        raise BlackoutInvalid(errors)
    blackout = Blackout(
        starts_at=starts.astimezone(UTC),
        ends_at=ends.astimezone(UTC),
        reason=reason,
        created_by_id=by.id,
    )
    session.add(blackout)
    session.flush()
    moved = replan_all(session, config=config, by=by, now=now)
    audit.record(
        session,
        actions.BLACKOUT_ADDED,
        actor=by,
        target_type="blackout",
        target_id=blackout.id,
        summary=f"Blackout added: {reason} ({moved} planned send(s) moved)",
    )
    return blackout, moved


def remove(session: Session, blackout: Blackout, *, by: User, config: Any, now: datetime) -> int:
    """Remove a blackout and move the sends it held back; returns how many moved."""
    blackout_id, reason = blackout.id, blackout.reason
    session.delete(blackout)
    session.flush()
    moved = replan_all(session, config=config, by=by, now=now)
    audit.record(
        session,
        actions.BLACKOUT_REMOVED,
        actor=by,
        target_type="blackout",
        target_id=blackout_id,
        summary=f"Blackout removed: {reason} ({moved} planned send(s) moved)",
    )
    return moved


def replan_all(session: Session, *, config: Any, by: User | None, now: datetime) -> int:
    """Move the unsent sends of every consultation still running (or closed lately) to
    where the rules, blackouts included, put them now. Returns how many moved."""
    rules = planning.rules_for(session, config)
    moved = 0
    for consultation in session.scalars(
        select(Consultation).where(Consultation.closes_at > now - REPLAN_CLOSED_WITHIN)
    ):
        moved += lifecycle.replan(session, consultation, rules=rules, by=by)
    log.info("blackouts changed: %d planned send(s) moved", moved)
    return moved
