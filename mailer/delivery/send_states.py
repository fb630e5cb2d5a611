"""A send's states and the moves between them: the one place ``Send.state`` changes.

MOVES is the table: each named move, the states it may start from and the state it
leads to. In words: an approval schedules a draft (or a missed send approved again);
a scheduled send fires when due (sending), then finishes (done), and reopens when
late joiners or retried failures give it deliveries to make again. A scheduled or
sending send may be paused and resumed; a scheduled one past its grace time is marked
missed, then rescheduled (sent now, or moved). Withdrawing an approval returns a
scheduled or missed send to draft; a send not yet fired may be left out of its
timeline; any send not yet done or cancelled may be cancelled. A bulletin sent on its
own is submitted (awaiting approval) before it is approved, and an edit after
submission withdraws it to draft.

A move the table does not allow raises IllegalMove. A caller that refuses a person
checks first, with the sentence that person reads; IllegalMove is a program's mistake.
Every function takes the send and never commits; the caller owns the transaction.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from mailer.delivery.models import (
    SEND_AWAITING_APPROVAL,
    SEND_CANCELLED,
    SEND_DONE,
    SEND_DRAFT,
    SEND_MISSED,
    SEND_PAUSED,
    SEND_SCHEDULED,
    SEND_SENDING,
    Send,
)

log = logging.getLogger(__name__)

UNFIRED = frozenset({SEND_DRAFT, SEND_AWAITING_APPROVAL, SEND_SCHEDULED, SEND_MISSED})


class IllegalMove(Exception):
    """A move the table does not allow from the send's state."""


@dataclass(frozen=True)
class Move:
    name: str
    sources: frozenset[str]
    targets: frozenset[str]


def _move(name: str, sources: set[str] | frozenset[str], *targets: str) -> Move:
    return Move(name, frozenset(sources), frozenset(targets))


MOVES = {
    move.name: move
    for move in (
        _move("submit", {SEND_DRAFT}, SEND_AWAITING_APPROVAL),
        _move("withdraw", {SEND_AWAITING_APPROVAL}, SEND_DRAFT),
        _move("schedule", {SEND_DRAFT, SEND_AWAITING_APPROVAL, SEND_MISSED}, SEND_SCHEDULED),
        _move("return_to_draft", {SEND_SCHEDULED, SEND_MISSED}, SEND_DRAFT),
        _move("mark_missed", {SEND_SCHEDULED}, SEND_MISSED),
        _move("reschedule_missed", {SEND_MISSED}, SEND_SCHEDULED),
        _move("leave_out", UNFIRED, SEND_CANCELLED),
        _move("fire", {SEND_SCHEDULED}, SEND_SENDING),
        _move("finish", {SEND_SENDING}, SEND_DONE),
        _move("reopen", {SEND_DONE}, SEND_SENDING),
        _move("pause", {SEND_SCHEDULED, SEND_SENDING}, SEND_PAUSED),
        _move("resume", {SEND_PAUSED}, SEND_SCHEDULED, SEND_SENDING),
        _move(
            "cancel",
            {
                SEND_DRAFT,
                SEND_AWAITING_APPROVAL,
                SEND_SCHEDULED,
                SEND_MISSED,
                SEND_SENDING,
                SEND_PAUSED,
            },
            SEND_CANCELLED,
        ),
    )
}


def allowed(name: str, source: str, target: str) -> bool:
    move = MOVES[name]
    return source in move.sources and target in move.targets


def _go(send: Send, name: str, target: str) -> None:
    if not allowed(name, send.state, target):
        raise IllegalMove(f"send {send.id} cannot {name.replace('_', ' ')}: it is {send.state}")
    log.debug("send %s: %s (%s -> %s)", send.id, name, send.state, target)
    send.state = target


def schedule(send: Send, *, now: datetime, by_id: int | None, frozen: dict, audience: dict) -> None:
    """Approved: what it delivers is frozen, and it waits for its time."""
    _go(send, "schedule", SEND_SCHEDULED)
    send.frozen = frozen
    send.audience = audience
    send.missed_at = None
    send.approved_at = now
    send.approved_by_id = by_id
    # Its web version ("view in your browser") is the approved message; the address is
    # fixed once, so a paused and re-approved send keeps the link its readers hold.
    send.web_token = send.web_token or secrets.token_urlsafe(12)


def submit(send: Send, *, now: datetime, by_id: int | None) -> None:
    """A bulletin sent on its own asks for approval."""
    _go(send, "submit", SEND_AWAITING_APPROVAL)
    send.submitted_at = now
    send.submitted_by_id = by_id
    send.returned_note = ""


def withdraw(send: Send, *, note: str) -> None:
    """Back to draft before anyone approved it (an edit after submission, say)."""
    _go(send, "withdraw", SEND_DRAFT)
    send.returned_note = note[:500]


def return_to_draft(send: Send) -> None:
    """The approval is withdrawn: nothing frozen, nothing approved."""
    _go(send, "return_to_draft", SEND_DRAFT)
    send.frozen = None
    send.approved_at = None
    send.approved_by_id = None


def mark_missed(send: Send, *, now: datetime) -> None:
    """Its time passed by more than the grace time (the scheduler was down, say)."""
    _go(send, "mark_missed", SEND_MISSED)
    send.missed_at = now


def reschedule_missed(send: Send) -> None:
    """A missed send waits again (sent now, or moved by the timeline)."""
    _go(send, "reschedule_missed", SEND_SCHEDULED)
    send.missed_at = None


def leave_out(send: Send) -> None:
    """The timeline no longer has room for it (a blackout, say)."""
    _go(send, "leave_out", SEND_CANCELLED)


def fire(send: Send, *, now: datetime) -> None:
    """Due: its delivery rows are made and the workers start."""
    _go(send, "fire", SEND_SENDING)
    send.fired_at = now


def finish(send: Send, *, now: datetime) -> None:
    _go(send, "finish", SEND_DONE)
    send.finished_at = now


def reopen(send: Send) -> None:
    """A done send has deliveries to make again (late joiners, failures retried)."""
    _go(send, "reopen", SEND_SENDING)
    send.finished_at = None


def pause(send: Send, *, reason: str, by_role: str) -> None:
    _go(send, "pause", SEND_PAUSED)
    send.paused_reason = reason[:2000]
    send.paused_by_role = by_role


def resume(send: Send) -> None:
    """Back to sending, or to waiting for its time if it never fired."""
    _go(send, "resume", SEND_SENDING if send.fired_at else SEND_SCHEDULED)
    send.paused_reason = ""
    send.paused_by_role = ""


def cancel(send: Send, *, now: datetime) -> None:
    """Stopped for good."""
    _go(send, "cancel", SEND_CANCELLED)
    send.finished_at = now
