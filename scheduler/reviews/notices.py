"""The review notices staff get by email: "awaits your approval" to the approvers who
may approve it, "approved" and "sent back" (with the comment) to whoever wrote and
submitted it. Each is one of the office's short emails (office_mail), queued for the
delivery workers in the caller's transaction, with a link to the page and the reader's
own link to turn these notices off (tokens.py). Nobody is told of their own step.

Every function takes a session and never commits; the caller owns the transaction."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.accounts.key_authors import Writer
from mailer.accounts.models import User
from mailer.config import Config
from mailer.delivery import queue
from mailer.email_templates import office_mail
from mailer.public_urls import PublicUrls
from scheduler.reviews import tokens

log = logging.getLogger(__name__)

KIND = "notice"
STOP_LABEL = "Stop these emails about approvals"
FOOTER = (
    "You get this because you write or approve messages in the office's mailer.",
    "These emails are about approvals only; you can turn them back on from My account.",
)


@dataclass(frozen=True)
class Mailing:
    """What a notice needs from the running app: the configuration, the keys its
    links are signed with (newest first), and the page it points to."""

    config: Config
    secret_keys: tuple[str, ...]
    page_url: str


@dataclass(frozen=True)
class About:
    """What the notice is about: "consultation" or "bulletin", and its title."""

    what: str
    title: str


def approvers(session: Session, *, leaving_out: Iterable[int]) -> list[User]:
    """Who may approve it: active approvers and admins with notices on, none of those
    left out (the authors of this version)."""
    excluded = set(leaving_out)
    return [
        u
        for u in session.scalars(select(User).where(User.active.is_(True)).order_by(User.id))
        if u.can_approve and not u.notices_off and u.id not in excluded
    ]


def writers(session: Session, ids: Iterable[int], *, leaving_out: int) -> list[User]:
    """The writers to tell (active, notices on), without the person acting."""
    wanted = {i for i in ids if i != leaving_out}
    if not wanted:
        return []
    return [
        u
        for u in session.scalars(select(User).where(User.id.in_(wanted)).order_by(User.id))
        if u.active and not u.notices_off
    ]


def awaiting(
    session: Session,
    mailing: Mailing,
    about: About,
    *,
    by: Writer,
    authors: Iterable[int],
    now: datetime,
) -> int:
    """Tell the approvers something awaits them. Returns how many were told."""
    to = approvers(session, leaving_out={*authors, by.id or 0})
    _send(
        session,
        mailing,
        to,
        subject=f"Awaiting your approval: {about.title}",
        paragraphs=(
            f'{by.display_name} submitted the {about.what} "{about.title}" for approval.',
            "Read it, then approve it or send it back with a comment.",
        ),
        action=f"Read the {about.what}",
        now=now,
    )
    return len(to)


def approved(
    session: Session,
    mailing: Mailing,
    about: About,
    *,
    by: Writer,
    to: Iterable[int],
    now: datetime,
) -> int:
    readers = writers(session, to, leaving_out=by.id or 0)
    _send(
        session,
        mailing,
        readers,
        subject=f"Approved: {about.title}",
        paragraphs=(
            f'{by.display_name} approved the {about.what} "{about.title}".',
            "Each message goes at the time its page shows.",
        ),
        action=f"See the {about.what}",
        now=now,
    )
    return len(readers)


def sent_back(
    session: Session,
    mailing: Mailing,
    about: About,
    *,
    by: User,
    comment: str,
    to: Iterable[int],
    now: datetime,
) -> int:
    readers = writers(session, to, leaving_out=by.id)
    _send(
        session,
        mailing,
        readers,
        subject=f"Sent back: {about.title}",
        paragraphs=(
            f'{by.display_name} sent the {about.what} "{about.title}" back to draft '
            "with this comment:",
            comment,
            "Change it, then submit it again.",
        ),
        action=f"Open the {about.what}",
        now=now,
    )
    return len(readers)


def _send(
    session: Session,
    mailing: Mailing,
    to: Sequence[User],
    *,
    subject: str,
    paragraphs: tuple[str, ...],
    action: str,
    now: datetime,
) -> None:
    if not to:
        return
    org = office_mail.organisation_values(session)
    sender = office_mail.sender(mailing.config, org)
    urls = PublicUrls(mailing.config.app.base_url)
    for user in to:
        mail = office_mail.OfficeMail(
            recipient=user.email,
            subject=subject,
            paragraphs=paragraphs,
            action_label=action,
            action_url=mailing.page_url,
            footer=FOOTER,
            stop_label=STOP_LABEL,
            stop_url=urls.notices_off(tokens.make(user, secret_keys=mailing.secret_keys)),
        )
        data = office_mail.render(mail, org=org, sender=sender, at=now)
        queue.enqueue(
            session, kind=KIND, sender=sender.address, recipient=user.email, data=data, now=now
        )
    log.info("review notice %r queued for %d user(s)", subject, len(to))
