"""A send's controls as people use them: pause, resume, retry, cancel.

Each checks the role table (mailer/accounts/roles.py) before it changes anything and
records the audit entry, in the caller's transaction. The worker pauses a send on its
own (the relay refusing us) through delivery.sends directly; that pause is held by
nobody's rank, so any approver or admin may resume it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from mailer import audit
from mailer.accounts import roles
from mailer.accounts.models import User
from mailer.accounts.roles import Action
from mailer.audit import actions
from mailer.delivery import sends
from mailer.delivery.models import Send

CONTROLS = ("pause", "resume", "retry", "cancel")

_ACTIONS = {
    "pause": Action.PAUSE_SEND,
    "resume": Action.RESUME_SEND,
    "retry": Action.RETRY_SEND,
    "cancel": Action.CANCEL_SEND,
}
_AUDIT = {
    "pause": actions.SEND_PAUSED,
    "resume": actions.SEND_RESUMED,
    "retry": actions.SEND_RETRIED,
    "cancel": actions.SEND_CANCELLED,
}


@dataclass(frozen=True)
class Done:
    message: str


def held_by(send: Send, control: str) -> str | None:
    """Whose stop a control would lift (for the rank rule), or None."""
    return send.paused_by_role if control == "resume" else None


def may(user: User, send: Send, control: str) -> bool:
    """For templates: offer the button only to someone who may use it."""
    return roles.may(user, _ACTIONS[control], held_by=held_by(send, control))


def refusal(user: User, send: Send, control: str) -> str | None:
    """For templates: why ``user`` is not offered the control, or None."""
    return roles.refusal(user, _ACTIONS[control], held_by=held_by(send, control))


def apply(
    session: Session, send: Send, control: str, *, by: User, now: datetime, ip: str | None = None
) -> Done:
    """Run one control as ``by``. Raises roles.NotAllowed or sends.SendRefused."""
    roles.require(by, _ACTIONS[control], held_by=held_by(send, control))
    if control == "pause":
        sends.pause(session, send, reason=f"Paused by {by.display_name}", by_role=by.role)
        message = "Paused. Messages already on their way finish; nothing else goes."
    elif control == "resume":
        sends.resume(session, send, now=now)
        message = "Resumed."
    elif control == "cancel":
        skipped = sends.cancel(session, send, now=now)
        message = f"Cancelled: {skipped} waiting messages will not be sent."
    elif control == "retry":
        count = sends.retry_failed(session, send, now=now)
        message = f"{count} failed deliveries queued again."
    else:
        raise ValueError(control)
    audit.record(
        session,
        _AUDIT[control],
        actor=by,
        target_type="send",
        target_id=send.id,
        summary=f"{message} ({send.title})",
        ip=ip,
    )
    return Done(message)
