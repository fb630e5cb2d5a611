"""What second factors a user has: read by the sign-in (ask for one?), the enrolment
hold (has none yet?) and the Sign-in security page. Callers own the transaction."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from mailer.accounts.models import Passkey, RecoveryCode, TotpSecret, User


@dataclass(frozen=True)
class Factors:
    totp: bool
    passkeys: list[Passkey]
    recovery_left: int

    @property
    def any(self) -> bool:
        return self.totp or bool(self.passkeys)


def summary(session: Session, user: User) -> Factors:
    totp = session.scalar(
        select(exists().where(TotpSecret.user_id == user.id, TotpSecret.confirmed_at.is_not(None)))
    )
    passkeys = list(
        session.scalars(select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.id))
    )
    left = session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )
    return Factors(totp=bool(totp), passkeys=passkeys, recovery_left=int(left or 0))


def has_any(session: Session, user_id: int) -> bool:
    """Whether the user has a confirmed authenticator app or a passkey (recovery codes
    stand in for those, never on their own)."""
    return bool(
        session.scalar(
            select(
                exists().where(TotpSecret.user_id == user_id, TotpSecret.confirmed_at.is_not(None))
            )
        )
        or session.scalar(select(exists().where(Passkey.user_id == user_id)))
    )
