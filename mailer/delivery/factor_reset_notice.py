"""The email telling a user an admin reset their second factors: who did it, when, what
to do next, and what to do if they did not expect it (someone may be trying to take
over their account). One of the office's short emails (office_mail), queued for the
delivery workers in the caller's transaction, so it goes exactly when the reset holds.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from mailer import humane_time
from mailer.accounts.second_factors.factor_reset import Reset
from mailer.config import Config
from mailer.delivery import queue
from mailer.email_templates import office_mail

KIND = "factor_reset"
FOOTER = (
    "You get this because your sign-in to the office's mailer was changed. "
    "Emails like this one are sent whenever that happens; they cannot be turned off.",
)


def tell(session: Session, config: Config, done: Reset, *, sign_in_url: str, now: datetime) -> None:
    """Queue the notice to the user whose factors ``done`` removed."""
    org = office_mail.organisation_values(session)
    sender = office_mail.sender(config, org)
    at = humane_time.when(done.at, config.app.tz)
    mail = office_mail.OfficeMail(
        recipient=done.user_email,
        subject="Your second factors were reset",
        paragraphs=(
            f"{done.by_name} ({done.by_email}), an admin, reset the second factors of "
            f"your account on {at}. {_removed(done)}",
            "Next time, sign in with your password alone, then set up a new authenticator "
            "app or passkey on My account > Sign-in security.",
            f"If you did not ask for this, tell {done.by_name} or another admin straight "
            "away, and change your password: someone may be trying to sign in as you.",
        ),
        action_label="Sign in",
        action_url=sign_in_url,
        footer=FOOTER,
    )
    data = office_mail.render(mail, org=org, sender=sender, at=now)
    queue.enqueue(
        session, kind=KIND, sender=sender.address, recipient=done.user_email, data=data, now=now
    )


def _removed(done: Reset) -> str:
    parts = []
    if done.had_app:
        parts.append("your authenticator app")
    if done.passkeys:
        parts.append(f"{done.passkeys} passkey{'s' if done.passkeys != 1 else ''}")
    if done.recovery_codes:
        parts.append("your recovery codes")
    if not parts:
        return "You had none set up; you were signed out of every browser."
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"This removed {listed}, and signed you out of every browser."
