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

The second factor is different: whoever answers it already has the password, so its
wrong answers (``SECOND_FACTOR`` rows) are also limited per account whatever the
address (``second_factor_refused_until``). Forty addresses sharing one pending sign-in
get the same ten tries as one. Only someone holding the password can use them up.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from mailer import audit, locks
from mailer.accounts.models import LoginAttempt, User
from mailer.audit import actions

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

# Which step a LoginAttempt row records.
PASSWORD = "password"
SECOND_FACTOR = "second factor"
# Wrong second factors per account, from anywhere, within WINDOW: a person mistyping
# never comes near it, while six digits guessed ten each quarter-hour take about a year
# on average (and it is well under the hundred consecutive failures NIST SP 800-63B
# allows).
MAX_SECOND_FACTOR_FAILURES = 10
# Refused for everyone, whatever the address: whoever got this far has the password.
ACCOUNT_REFUSED = (
    "Too many wrong second factors have been tried for this account. Wait {wait} and "
    "try again. If they were not yours, someone knows your password: change it once "
    "you are in."
)


def _failures(since: datetime) -> Select[datetime]:
    return select(LoginAttempt.at).where(LoginAttempt.succeeded.is_(False), LoginAttempt.at > since)


def one_at_a_time(session: Session, *, ip: str) -> None:
    """Hold, until the transaction ends, the turn of sign-ins from ``ip``: both limits
    above count per address, so one lock per address keeps each count and the attempt
    recorded after it one step."""
    locks.hold(session, f"login:{ip}")


def one_account_at_a_time(session: Session, *, user_id: int) -> None:
    """Hold, until the transaction ends, the turn of second-factor answers for one
    account, so parallel guesses from many addresses are counted one after another.
    Taken after the address's turn (``one_at_a_time``), always in that order."""
    locks.hold(session, f"second-factor:{user_id}")


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


def second_factor_refused_until(
    session: Session, *, user_id: int, now: datetime
) -> datetime | None:
    """When this account may answer a second factor again (from anywhere), or None."""
    recent = list(
        session.scalars(
            _failures(now - WINDOW)
            .where(LoginAttempt.user_id == user_id, LoginAttempt.step == SECOND_FACTOR)
            .order_by(LoginAttempt.at.desc())
            .limit(MAX_SECOND_FACTOR_FAILURES)
        )
    )
    if len(recent) < MAX_SECOND_FACTOR_FAILURES:
        return None
    return recent[-1] + WINDOW


@dataclass(frozen=True)
class Refusal:
    """Why an answer was not even looked at, and when one may be again."""

    words: str
    retry_at: datetime


def second_factor_refusal(
    session: Session, user: User, *, ip: str, now: datetime, method: str
) -> Refusal | None:
    """While this account has had too many wrong second factors from anywhere, the
    refusal of every answer (audited; no code or passkey is looked at); else None.
    Takes the account's turn, so the count and the wrong answer recorded after it are
    one step for every address."""
    one_account_at_a_time(session, user_id=user.id)
    retry_at = second_factor_refused_until(session, user_id=user.id, now=now)
    if retry_at is None:
        return None
    audit.record(
        session,
        actions.LOGIN_THROTTLED,
        actor_label=user.email,
        target_type="user",
        target_id=user.id,
        summary="Second factor refused: too many wrong answers for this account",
        detail={"step": SECOND_FACTOR, "method": method},
        ip=ip,
    )
    return Refusal(ACCOUNT_REFUSED.format(wait=wait_words(retry_at, now=now)), retry_at)


def wait_words(retry_at: datetime, *, now: datetime) -> str:
    """ "5 minutes": how long until ``retry_at``, for a sentence."""
    minutes = max(1, round((retry_at - now).total_seconds() / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def brake_delay(session: Session, *, now: datetime) -> float:
    """Seconds every attempt waits now: 0 unless failures everywhere run high."""
    recent = session.scalar(
        select(func.count()).select_from(_failures(now - BRAKE_WINDOW).subquery())
    )
    return BRAKE_DELAY if (recent or 0) >= BRAKE_FAILURES else 0.0
