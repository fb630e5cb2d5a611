"""Two tabs (or two people) editing one consultation: the edit form carries the version
it was loaded from, and a save from an older one is refused rather than putting back
what someone else changed. No schema: the version is ``updated_at``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.audit.models import AuditEntry
from mailer.database import row_version
from scheduler.models import Consultation


class ConsultationChanged(Exception):
    """Someone changed the consultation since the form was opened; says who and when."""


def version_of(consultation: Consultation) -> str:
    """The hidden ``loaded_at`` of the edit form: its last change."""
    return row_version(consultation.updated_at)


def check_unchanged(
    session: Session,
    consultation: Consultation,
    *,
    loaded: str | None,
    say_when: Callable[[datetime], str],
) -> None:
    """Raise ConsultationChanged when ``loaded`` is not the current version; None (a
    form without the field: an older page, a script) saves as before."""
    if loaded is None or loaded == version_of(consultation):
        return
    last = session.scalar(
        select(AuditEntry)
        .where(
            AuditEntry.target_type == "consultation",
            AuditEntry.target_id == str(consultation.id),
        )
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(1)
    )
    who = f"Someone ({last.actor_label})" if last is not None and last.actor_label else "Someone"
    at = say_when(consultation.updated_at) if consultation.updated_at else "a moment ago"
    raise ConsultationChanged(
        f"{who} saved this consultation at {at} since you opened it. Your words are "
        "below; copy what you need, then reload."
    )
