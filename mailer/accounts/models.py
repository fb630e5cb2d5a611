from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mailer.accounts import roles
from mailer.database import Base, UTCDateTime, utcnow


def new_session_token() -> str:
    return secrets.token_urlsafe(16)


class User(Base):
    """Someone who signs in to the admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    # Case-folded copy that keeps Alice@X.org and alice@x.org one account.
    email_key: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of the login cookie's identity; replacing it signs the user out everywhere
    # (on a password change, on being disabled).
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Turned off review notices by email ("something awaits your approval", "approved",
    # "sent back") from the link in one of them.
    notices_off: Mapped[bool] = mapped_column(Boolean, default=False)

    # --- Flask-Login protocol -------------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}.{self.session_token}"

    # --- capabilities (from the one table in roles.py) --------------------------------
    def may(self, action: roles.Action, *, held_by: str | None = None) -> bool:
        return roles.may(self, action, held_by=held_by)

    @property
    def can_edit(self) -> bool:
        return self.may(roles.Action.EDIT)

    @property
    def can_approve(self) -> bool:
        return self.may(roles.Action.APPROVE)

    @property
    def can_manage_users(self) -> bool:
        return self.may(roles.Action.MANAGE_USERS)

    @property
    def can_read_audit(self) -> bool:
        return self.may(roles.Action.READ_AUDIT)

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class LoginAttempt(Base):
    """One sign-in attempt, kept a short while to throttle password guessing."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_key_at", "email_key", "at"),
        Index("ix_login_attempts_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    email_key: Mapped[str] = mapped_column(String(320))
    ip: Mapped[str] = mapped_column(String(45), default="")
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True
    )


class UserSession(Base):
    """One signed-in browser. The cookie carries a random key whose hash is kept here;
    signing out ends the row, so a copied cookie is dead, and the idle and absolute
    lifetimes are checked here rather than trusted to the cookie."""

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # "signed out", "idle", "too old", "password changed", "disabled"
    ended_reason: Mapped[str] = mapped_column(String(40), default="")
