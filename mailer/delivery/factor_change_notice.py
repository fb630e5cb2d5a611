"""The email telling a user their own sign-in changed: a second factor added or
removed, or new recovery codes made. What, when, from which browser and network, and
what to do if it was not them (someone who has their password and a factor may be
settling in). One of the office's short emails (office_mail), queued in the caller's
transaction, so it goes exactly when the change holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from mailer import humane_time
from mailer.accounts.models import User
from mailer.accounts.session_list import describe
from mailer.config import Config
from mailer.delivery import queue
from mailer.delivery.factor_reset_notice import FOOTER
from mailer.email_templates import office_mail

KIND = "factor_change"

APP_ADDED = "An authenticator app was set up"
APP_REPLACED = "Your authenticator app was replaced by a new one"
APP_REMOVED = "Your authenticator app was removed"
PASSKEY_ADDED = "A passkey was added"
PASSKEY_REMOVED = "A passkey was removed"
CODES_MADE = "New recovery codes were made"


@dataclass(frozen=True)
class Change:
    """What changed (one of the sentences above, and the passkey's name if any), and
    the browser and network it was done from."""

    what: str
    user_agent: str
    ip: str
    name: str = ""


def tell(
    session: Session,
    config: Config,
    user: User,
    change: Change,
    *,
    security_url: str,
    now: datetime,
) -> None:
    """Queue the notice to ``user`` about ``change``."""
    org = office_mail.organisation_values(session)
    sender = office_mail.sender(config, org)
    at = humane_time.when(now, config.app.tz)
    what = f"{change.what} ({change.name})" if change.name else change.what
    browser = describe(change.user_agent)
    if browser.startswith(("A ", "An ")):
        browser = browser[0].lower() + browser[1:]
    mail = office_mail.OfficeMail(
        recipient=user.email,
        subject=change.what,
        paragraphs=(
            f"{what} for your account on {at}, from {browser} "
            f"at network address {change.ip or 'unknown'}.",
            "If this was you, there is nothing more to do.",
            "If it was not you, someone knows your password: change it straight away, check "
            "your second factors on My account > Sign-in security, and tell an admin. If "
            "you cannot sign in any more, ask an admin to reset your second factors.",
        ),
        action_label="Check your sign-in security",
        action_url=security_url,
        footer=FOOTER,
    )
    data = office_mail.render(mail, org=org, sender=sender, at=now)
    queue.enqueue(
        session, kind=KIND, sender=sender.address, recipient=user.email, data=data, now=now
    )
