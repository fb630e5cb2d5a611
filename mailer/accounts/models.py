from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
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
    # The random handle passkeys carry for this user (WebAuthn's user.id): never the
    # email, so a passkey says nothing about who it is for. Made on the first passkey.
    webauthn_handle: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    # The single sign-on provider's "sub" for this user, kept from the first sign-in:
    # a later token with the same email but another subject (the address given to
    # someone else at the provider) is refused.
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True, nullable=True)

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
    # Which step: the password, or the second factor after it (limited per account
    # whatever the address, since whoever answers it already has the password).
    step: Mapped[str] = mapped_column(String(20), default="password")
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
    # How it began (mailer.accounts.methods: "password", "password+totp", "passkey",
    # "sso", ...): a password-only session of someone who must use a second factor is
    # held at enrolment.
    method: Mapped[str] = mapped_column(String(40), default="password")
    # What the user sees in their list of signed-in browsers.
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    ip: Mapped[str] = mapped_column(String(45), default="")


class TotpSecret(Base):
    """A user's authenticator app: the shared key (encrypted under the app's secret key)
    and the last time step used, so a code is accepted once."""

    __tablename__ = "totp_secrets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    secret: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None while being set up: the key is shown, but counts only once a code from it
    # has been typed back.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_step: Mapped[int] = mapped_column(BigInteger, default=0)
    # A new phone being set up while the old app still works: its key (encrypted the
    # same way) takes over only once a code from it is typed back.
    replacement: Mapped[str | None] = mapped_column(String(255), nullable=True)
    replacement_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RecoveryCode(Base):
    """One of a user's single-use recovery codes, kept only as a hash."""

    __tablename__ = "recovery_codes"
    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Passkey(Base):
    """A passkey or security key registered by a user (WebAuthn)."""

    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # base64url of the credential id (at most 1,023 bytes by the specification).
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    name: Mapped[str] = mapped_column(String(100), default="")
    transports: Mapped[str] = mapped_column(String(200), default="")
    aaguid: Mapped[str] = mapped_column(String(36), default="")
    backed_up: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ApiKey(Base):
    """A key another system uses to call the API: ``Authorization: Bearer <key>``.

    The key is ``sm_<prefix>_<secret>``: the prefix finds the row, and only a SHA-256
    of the whole key is kept (the key is random and long, so a slow hash adds nothing).
    It is shown once, when created."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    # Space-separated scopes ("contacts:read contacts:write"), see api_scopes.py.
    scopes: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


class IdempotentRequest(Base):
    """The answer to a creating request made with an ``Idempotency-Key``, kept for a
    day so that the same request sent again gets the same answer and changes nothing.
    ``status`` 0: the first request is still being answered."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("api_key_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the method, path and body: the same key with another request is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer, default=0)
    body: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    content_type: Mapped[str] = mapped_column(String(100), default="")
    location: Mapped[str] = mapped_column(String(1000), default="")
    etag: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
