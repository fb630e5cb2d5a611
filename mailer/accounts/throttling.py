"""Slowing password guessing without locking the real person out.

Failed sign-ins are counted per (account, client address) pair and per client address:
a guesser at one address is refused for a while, and nobody else is. An account is never
locked for everyone: counting failures per account would let a stranger with rotating
addresses keep its owner out. Instead, when failures across every account and address
pass a rate no office makes by mistyping, a global brake makes every sign-in attempt
wait a few seconds before it is checked, which costs a distributed guesser dearly (each
guess takes the brake's time) and costs a person signing in once only that wait. Only a
few braked attempts are checked at once per process, so sleeping attempts cannot take
every server thread; the others get a short refusal and try again in a moment.

Attempts from one client address are checked one after another (``one_at_a_time``),
so a burst of parallel guesses is counted like the same guesses sent in turn.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from mailer import locks
from mailer.accounts.models import LoginAttempt

WINDOW = timedelta(minutes=15)
# Ten, as the NCSC's password guidance suggests: room for a person's typos (and a
# forgotten caps lock) before a wait, far too few for guessing.
MAX_FAILURES_ACCOUNT_AND_IP = 10
MAX_FAILURES_PER_IP = 20

# The global brake: this many failures across all accounts within BRAKE_WINDOW.
BRAKE_WINDOW = timedelta(minutes=5)
BRAKE_FAILURES = 30
BRAKE_DELAY = 3.0  # seconds each attempt waits while the brake is on
# How many braked attempts one process checks at once; the others are refused at once
# ("try again in a few seconds") rather than each holding a server thread asleep.
BRAKE_SLOTS = threading.BoundedSemaphore(2)


def _failures(since: datetime) -> Select[datetime]:
    return select(LoginAttempt.at).where(LoginAttempt.succeeded.is_(False), LoginAttempt.at > since)


def one_at_a_time(session: Session, *, ip: str) -> None:
    """Hold, until the transaction ends, the turn of sign-ins from ``ip``: both limits
    above count per address, so one lock per address keeps each count and the attempt
    recorded after it one step."""
    locks.hold(session, f"login:{ip}")


def refused_until(session: Session, *, key: str, ip: str, now: datetime) -> datetime | None:
    """When this (account, address) pair or this address may try again, or None."""
    failures = _failures(now - WINDOW)
    checks = (
        (
            failures.where(LoginAttempt.email_key == key, LoginAttempt.ip == ip),
            MAX_FAILURES_ACCOUNT_AND_IP,
        ),
        (failures.where(LoginAttempt.ip == ip), MAX_FAILURES_PER_IP),
    )
    for query, limit in checks:
        recent = list(session.scalars(query.order_by(LoginAttempt.at.desc()).limit(limit)))
        if len(recent) >= limit:
            # Free again once the oldest failure that counts leaves the window.
            return recent[-1] + WINDOW
    return None


def brake_delay(session: Session, *, now: datetime) -> float:
    """Seconds every attempt waits now: 0 unless failures everywhere run high."""
    recent = session.scalar(
        select(func.count()).select_from(_failures(now - BRAKE_WINDOW).subquery())
    )
    return BRAKE_DELAY if (recent or 0) >= BRAKE_FAILURES else 0.0
