"""The email telling every active admin that a webhook endpoint was switched off
after failing for ``[webhooks] failure_window``: which endpoint, failing since when,
its last answer, and where to switch it on again. One of the office's short emails
(office_mail), queued for the delivery workers like the notice of a second-factor reset
(``factor_reset_notice.py``).

Here rather than in ``mailer.events`` because the events concept ranks below delivery
and must not import it: the dispatcher returns what it disabled, the workers tell.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer import humane_time
from mailer.accounts import roles
from mailer.accounts.models import User
from mailer.config import Config
from mailer.delivery import queue
from mailer.email_templates import office_mail
from mailer.events.dispatch import Disabled
from mailer.events.endpoints import admin_page

KIND = "webhook_disabled"
FOOTER = (
    "You get this because you are an admin of the office's mailer. Emails like this "
    "one are sent whenever a webhook endpoint is switched off; they cannot be turned off.",
)


def tell(session: Session, config: Config, disabled: Disabled, *, now: datetime) -> int:
    """Queue the notice to every active admin; how many were queued."""
    admins = session.scalars(
        select(User).where(User.role == roles.ADMIN, User.active.is_(True)).order_by(User.id)
    ).all()
    if not admins:
        return 0
    org = office_mail.organisation_values(session)
    sender = office_mail.sender(config, org)
    since = humane_time.when(disabled.failing_since, config.app.tz)
    window = _words(config.webhooks.failure_window)
    page = admin_page(config.app.base_url, disabled.endpoint_id)
    for admin in admins:
        mail = office_mail.OfficeMail(
            recipient=admin.email,
            subject=f"Webhook endpoint \u201c{disabled.name}\u201d was switched off",
            paragraphs=(
                f"The webhook endpoint \u201c{disabled.name}\u201d ({disabled.url}) has "
                f"failed every attempt since {since}, for longer than {window}, so it was "
                "switched off. The events waiting for it were given up; nothing more is "
                "sent to it until it is switched on again.",
                f"Its last answer: {disabled.last_answer or 'none'}",
                "Once the receiving system works again, switch the endpoint on from its "
                "page (and send a test event). Events that happen from then on are sent.",
            ),
            action_label="Open the endpoint",
            action_url=page,
            footer=FOOTER,
        )
        data = office_mail.render(mail, org=org, sender=sender, at=now)
        queue.enqueue(
            session, kind=KIND, sender=sender.address, recipient=admin.email, data=data, now=now
        )
    return len(admins)


def _words(span: timedelta) -> str:
    """ "a day", "36 hours", "15 minutes": the window as a person says it."""
    seconds = int(span.total_seconds())
    for size, one, many in ((86400, "a day", "days"), (3600, "an hour", "hours"),
                            (60, "a minute", "minutes")):  # fmt: skip
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return one if count == 1 else f"{count} {many}"
    return f"{seconds} seconds"
