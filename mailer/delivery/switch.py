"""The stop switch: halt all sending at once, and resume it.

While stopped, workers claim nothing and hand back rows they hold within a second,
and the scheduler fires nothing (a send whose time passes meanwhile runs late on
resume, or is marked missed after the grace time, as with a scheduler that was down).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer import audit
from mailer.accounts import roles
from mailer.accounts.models import User
from mailer.accounts.roles import Action
from mailer.audit import actions
from mailer.delivery.models import SendingSwitch

log = logging.getLogger(__name__)

# A paused pseudo-state the workers see while the switch is off.
STOPPED = "stopped"


class SwitchRefused(Exception):
    pass


def current(session: Session) -> SendingSwitch:
    switch = session.get(SendingSwitch, 1)
    if switch is None:  # the migration makes it; a hand-made database may not have it
        switch = SendingSwitch(id=1, stopped=False, reason="")
        session.add(switch)
        session.flush()
    return switch


def is_stopped(session: Session) -> bool:
    return bool(session.scalar(select(SendingSwitch.stopped).where(SendingSwitch.id == 1)))


def stop(session: Session, *, by: User, reason: str, now: datetime) -> None:
    roles.require(by, Action.STOP_SENDING)
    switch = current(session)
    if switch.stopped:
        raise SwitchRefused("Sending is already stopped.")
    reason = " ".join(reason.split())[:300]
    if not reason:
        raise SwitchRefused("Say why sending is stopped, so colleagues know when to resume.")
    switch.stopped, switch.reason, switch.changed_at, switch.changed_by_id = (
        True,
        reason,
        now,
        by.id,
    )
    switch.stopped_by_role = by.role
    audit.record(
        session, actions.SENDING_STOPPED, actor=by, summary=f"Stopped all sending: {reason}"
    )
    log.warning("all sending stopped by %s: %s", by.email, reason)


def resume(session: Session, *, by: User, now: datetime) -> None:
    """Restart sending. Only an approver or an admin may, and a stop is lifted only by
    someone of at least the rank of whoever made it (an admin's incident stop sticks)."""
    switch = current(session)
    if not switch.stopped:
        raise SwitchRefused("Sending is not stopped.")
    roles.require(by, Action.RESTART_SENDING, held_by=switch.stopped_by_role)
    switch.stopped, switch.reason, switch.changed_at, switch.changed_by_id = False, "", now, by.id
    switch.stopped_by_role = ""
    audit.record(session, actions.SENDING_RESUMED, actor=by, summary="Resumed sending")
    log.warning("sending resumed by %s", by.email)
