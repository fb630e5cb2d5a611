"""The Stakeholder Special template family shipped with the product: one email template
per kind of message, each with the subject a new bulletin of that kind starts with.

Their first versions are read from the seed sources (:mod:`mailer.email_templates.seeds`).
"""

from __future__ import annotations

from dataclasses import dataclass

from mailer.email_templates.models import (
    KIND_BULLETIN,
    KIND_CLOSE_NOTICE,
    KIND_LAUNCH,
    KIND_REMINDER,
)


@dataclass(frozen=True)
class Member:
    kind: str
    name: str
    description: str
    default_subject: str  # what a new bulletin of this kind starts with


MEMBERS = (
    Member(
        KIND_LAUNCH,
        "Stakeholder Special: consultation launch",
        "Opens a consultation: survey button, closing date, documents, paper copies "
        "and the request to pass it on.",
        "Have your say: {title}",
    ),
    Member(
        KIND_REMINDER,
        "Stakeholder Special: reminder",
        "Before the close: how long is left, the survey button and the closing date.",
        "Reminder: {title} closes soon",
    ),
    Member(
        KIND_CLOSE_NOTICE,
        "Stakeholder Special: close notice",
        "After the close: thanks, and what happens next.",
        "Thank you: {title} has closed",
    ),
    Member(
        KIND_BULLETIN,
        "Stakeholder Special: general bulletin",
        "News for stakeholders with no consultation attached.",
        "Stakeholder Special",
    ),
)
MEMBER_BY_KIND = {member.kind: member for member in MEMBERS}
