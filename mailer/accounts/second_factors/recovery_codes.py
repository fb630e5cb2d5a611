"""Recovery codes: ten single-use codes that stand in for the authenticator app (or a
passkey) when it is lost. Callers own the transaction.

Each code is ten characters from Crockford's base32 (digits and lower-case letters
without i, l, o and u), 50 random bits, shown as ``xxxxx-xxxxx``; typing an o for a
zero or an l for a one is forgiven. Only a keyed hash is kept (``sealing``), and a
code is burnt with a compare-and-set, so two requests with one code succeed once.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from mailer import audit
from mailer.accounts.models import RecoveryCode, User
from mailer.accounts.second_factors.sealing import RECOVERY_CODE, KeyRing
from mailer.audit import actions
from mailer.database import rows_changed

COUNT = 10
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
LENGTH = 10
# At or below this many left, the person is told to make new ones.
FEW = 3
_FORGIVEN = str.maketrans({"o": "0", "i": "1", "l": "1"})


def _new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalise(text: str) -> str | None:
    """The code as stored (``xxxxx-xxxxx``), or None if ``text`` cannot be one."""
    raw = "".join(text.lower().replace("-", " ").split()).translate(_FORGIVEN)
    if len(raw) != LENGTH or any(ch not in ALPHABET for ch in raw):
        return None
    return f"{raw[:5]}-{raw[5:]}"


def _message(user: User, code: str) -> str:
    return f"{user.id}:{code}"


def make(session: Session, user: User, *, keys: KeyRing, now: datetime, ip: str) -> list[str]:
    """Ten new codes for ``user``, replacing all their earlier ones; returns them to be
    shown once (only their hashes are kept)."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes: list[str] = []
    while len(codes) < COUNT:
        code = _new_code()
        if code not in codes:
            codes.append(code)
    session.add_all(
        RecoveryCode(
            user_id=user.id,
            code_hash=keys.digest(_message(user, code), purpose=RECOVERY_CODE),
            created_at=now,
        )
        for code in codes
    )
    session.flush()
    audit.record(
        session,
        actions.RECOVERY_CODES_MADE,
        actor=user,
        target_type="user",
        target_id=user.id,
        summary=f"{COUNT} new recovery codes made for {user.email}",
        ip=ip,
    )
    return codes


def burn(session: Session, user: User, *, code: str, keys: KeyRing, now: datetime) -> bool:
    """Use ``code`` (as ``normalise`` gives it): True once, False ever after, or if it
    was never one of the user's."""
    hashes = keys.digests(_message(user, code), purpose=RECOVERY_CODE)
    return (
        rows_changed(
            session,
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash.in_(hashes),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False),
        )
        == 1
    )


def left(session: Session, user: User) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def forget(session: Session, user: User) -> None:
    """Every code of ``user`` goes (their last second factor was removed: codes stand
    in for a factor, never on their own)."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
