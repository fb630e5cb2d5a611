"""What a person types when asked for a second factor: the authenticator app's six
digits (spaces allowed) or a recovery code, in one field. Callers own the transaction.

A wrong answer is on the record as a failed sign-in attempt for the user's address and
client address, so the password throttling (mailer.accounts.throttling) counts guesses
at codes too, and while it refuses, no code is checked at all: a cookie can be sent
again with its count of tries reset, the database's count cannot. Its step is
"second factor", so it also counts towards the limit per account whatever the address
(``throttling.second_factor_refusal``, used for passkeys too).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from mailer import audit
from mailer.accounts import methods, throttling
from mailer.accounts.models import LoginAttempt, User
from mailer.accounts.second_factors import recovery_codes, totp
from mailer.accounts.second_factors.sealing import KeyRing, SealBroken
from mailer.audit import actions

log = logging.getLogger(__name__)

# Longer than any code with generous spacing: anything beyond is not read at all.
LONGEST = 40
_DIGITS = re.compile(r"[0-9]{6}", re.ASCII)

UNREADABLE = (
    "Type the 6 digits your authenticator app shows (like 123 456), "
    "or one of your recovery codes (like abcde-12345)."
)
WRONG = "That code is not right. Check your app shows this account, and try again."
WRONG_APP_ONLY = "That code is not right. Type the 6 digits your authenticator app shows now."
KEY_UNREADABLE = (
    "Your authenticator app's key can no longer be read here (the server's secret key was "
    "changed without keeping the old one). Use a recovery code, or ask an admin to reset "
    "your second factors."
)


@dataclass(frozen=True)
class Answer:
    """The outcome: right (with the sign-in method it makes), or the sentence saying
    why not; ``counted`` when it was a wrong try (not unreadable, not throttled)."""

    ok: bool
    method: str = ""
    error: str = ""
    counted: bool = False
    recovery_left: int | None = None
    throttled: bool = False

    @property
    def used_recovery_code(self) -> bool:
        return self.method == methods.PASSWORD_RECOVERY


def read(text: str) -> tuple[str, str] | None:
    """("app", digits) or ("recovery", code) from what was typed; None if neither."""
    if len(text) > LONGEST:
        return None
    packed = "".join(text.split())
    if _DIGITS.fullmatch(packed.replace("-", "")):
        return "app", packed.replace("-", "")
    code = recovery_codes.normalise(packed)
    return ("recovery", code) if code else None


def check(
    session: Session,
    user: User,
    *,
    text: str,
    keys: KeyRing,
    now: datetime,
    ip: str,
    recovery: bool = True,
    purpose: str = "sign-in",
) -> Answer:
    """Check what was typed against the user's app (and, if ``recovery``, their recovery
    codes), using up what was right. Returns rather than raises, so the caller commits
    the record of a wrong answer too."""
    throttling.one_at_a_time(session, ip=ip)
    retry_at = throttling.refused_until(session, key=user.email_key, ip=ip, now=now)
    if retry_at is not None:
        return Answer(
            False,
            error="Too many wrong codes or passwords from here. "
            f"Wait {throttling.wait_words(retry_at, now=now)} and try again.",
            throttled=True,
        )
    refused = throttling.second_factor_refusal(session, user, ip=ip, now=now, method="code")
    if refused is not None:
        return Answer(False, error=refused.words, throttled=True)
    answer = read(text)
    if answer is None:
        return Answer(False, error=UNREADABLE)
    kind, value = answer
    if kind == "app":
        row = totp.confirmed(session, user)
        try:
            if row is not None and totp.use_code(session, row, code=value, keys=keys, now=now):
                return Answer(True, method=methods.PASSWORD_TOTP)
        except SealBroken:
            log.error("the authenticator app key of user %s opens with no secret key", user.id)
            return Answer(False, error=KEY_UNREADABLE)
    elif recovery and recovery_codes.burn(session, user, code=value, keys=keys, now=now):
        left = recovery_codes.left(session, user)
        audit.record(
            session,
            actions.RECOVERY_CODE_USED,
            actor=user,
            target_type="user",
            target_id=user.id,
            summary=f"Recovery code used by {user.email} ({left} left)",
            detail={"left": left, "for": purpose},
            ip=ip,
        )
        return Answer(True, method=methods.PASSWORD_RECOVERY, recovery_left=left)
    elif not recovery:
        return Answer(False, error=WRONG_APP_ONLY)
    _record_wrong(session, user, kind=kind, purpose=purpose, ip=ip, now=now)
    return Answer(False, error=WRONG if recovery else WRONG_APP_ONLY, counted=True)


def _record_wrong(
    session: Session, user: User, *, kind: str, purpose: str, ip: str, now: datetime
) -> None:
    session.add(
        LoginAttempt(
            at=now,
            email_key=user.email_key,
            ip=ip,
            succeeded=False,
            user_id=user.id,
            step=throttling.SECOND_FACTOR,
        )
    )
    audit.record(
        session,
        actions.SECOND_FACTOR_FAILED,
        actor_label=user.email,
        target_type="user",
        target_id=user.id,
        summary=f"Wrong second factor ({'app code' if kind == 'app' else 'recovery code'})",
        detail={"kind": kind, "for": purpose},
        ip=ip,
    )
