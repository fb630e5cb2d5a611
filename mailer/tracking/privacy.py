"""Tracking records under erasure and retention.

Erasure: a contact's pending and past sign-ups (which hold the address) go with them;
their share code stays, without them, so the counts it earned stay right; their
per-person clicks go with the contact row (ON DELETE CASCADE).

Retention (``[retention] deliveries``): daily counts, per-person clicks, sign-up
requests, cascade confirmations and survey completions older than the limit are
deleted with the delivery rows. Contacts made by a confirmed sign-up stay: they are
contacts now. The public forms' rate-limit rows (keyed hashes) go after a day,
whatever the setting.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import delete, or_
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from mailer.tracking import limits
from mailer.tracking.models import (
    CascadeConfirmation,
    ClickCount,
    PersonClick,
    PublicRequest,
    ShareVisit,
    SignUp,
    SurveyCompletion,
)

log = logging.getLogger(__name__)


def scrub_sign_ups(session: Session, contact_id: int, email: str) -> None:
    session.execute(
        delete(SignUp).where(
            or_(SignUp.contact_id == contact_id, SignUp.email_key == email.casefold())
        )
    )


def purge(session: Session, *, now: datetime, keep: timedelta) -> int:
    """Delete tracking records older than ``now - keep``; returns how many rows went."""
    cutoff = now - keep
    # Not tracking records, only what the limits count: cleared quietly, not counted.
    session.execute(delete(PublicRequest).where(PublicRequest.at < now - limits.KEPT_FOR))
    removed = 0
    for statement in (
        delete(ClickCount).where(ClickCount.day < cutoff.date()),
        delete(ShareVisit).where(ShareVisit.day < cutoff.date()),
        delete(PersonClick).where(PersonClick.first_at < cutoff),
        delete(SignUp).where(SignUp.created_at < cutoff),
        delete(CascadeConfirmation).where(CascadeConfirmation.created_at < cutoff),
        delete(SurveyCompletion).where(SurveyCompletion.created_at < cutoff),
    ):
        removed += cast(CursorResult[Any], session.execute(statement)).rowcount or 0
    if removed:
        log.info("retention: deleted %d tracking records older than %s", removed, cutoff)
    return removed
