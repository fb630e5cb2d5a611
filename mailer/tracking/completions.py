"""Survey completions: the consultation's survey tool tells us a response was finished.

Each consultation has a completion address, ``/c/<completion code>`` (random, made the
first time the admin shows it). The survey tool sends a respondent there when they
finish. When the respondent came through a stakeholder's share link, the survey link
they followed carried that share code (``share=``, see :func:`survey_target`), and a
tool that can pass a value back puts it in the completion address
(``/c/<code>?share=<share code>``): the response then counts for that share in the
cascade report. A share code of another consultation, or none, counts only in the
total.

A share code is not personal data: it names a stakeholder's share link, not the person
who followed it, and it is 64 random bits (``links.CODE_BYTES``), never guessed.

Every function takes a session and never commits; the caller owns the transaction.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit, urlunsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer.delivery.models import ShareCode
from mailer.tracking.models import SurveyCompletion

if TYPE_CHECKING:  # tracking sits below consultations; it only names their type
    from scheduler.models import Consultation

CODE_BYTES = 12  # 96 random bits: 16 characters
CODE_MAX = 24  # the column's width: anything longer is not a code
SHARE_PARAMETER = "share"
# What the admin shows in the completion address for the tool to fill in.
SHARE_PLACEHOLDER = "{share}"


def new_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


def ensure_code(consultation: Consultation) -> str:
    """The consultation's completion code, made now if it has none."""
    if not consultation.completion_code:
        consultation.completion_code = new_code()
    return consultation.completion_code


def share_of(session: Session, consultation_id: int, code: str | None) -> ShareCode | None:
    """The share code ``code`` when it is one of this consultation's, else None."""
    if not code or len(code) > CODE_MAX:
        return None
    return session.scalar(
        select(ShareCode).where(
            ShareCode.code == code, ShareCode.consultation_id == consultation_id
        )
    )


def record(
    session: Session, consultation_id: int, *, share: str | None, now: datetime
) -> SurveyCompletion:
    """Count one completed response, for the share it came through when that share
    is one of this consultation's."""
    found = share_of(session, consultation_id, share)
    completion = SurveyCompletion(
        consultation_id=consultation_id,
        share_code_id=found.id if found is not None else None,
        created_at=now,
    )
    session.add(completion)
    session.flush()
    return completion


def counts(session: Session, consultation_id: int) -> tuple[int, int]:
    """Responses reported complete: all of them, and those through a share."""
    total, shared = session.execute(
        select(func.count(SurveyCompletion.id), func.count(SurveyCompletion.share_code_id)).where(
            SurveyCompletion.consultation_id == consultation_id
        )
    ).one()
    return int(total or 0), int(shared or 0)


def survey_target(target: str, share_code: str) -> str:
    """The survey's address with the share code that brought the respondent, so the
    survey tool can hand it back in its completion redirect. The address stays as the
    office wrote it otherwise (its query is not re-encoded, its fragment kept)."""
    parts = urlsplit(target)
    added = urlencode({SHARE_PARAMETER: share_code})
    query = f"{parts.query}&{added}" if parts.query else added
    return urlunsplit(parts._replace(query=query))


def address_for_tools(completion_url: str) -> str:
    """The completion address to paste into a survey tool, with the place the tool
    puts the share code it was given."""
    return f"{completion_url}?{SHARE_PARAMETER}={SHARE_PLACEHOLDER}"
