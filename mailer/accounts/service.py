"""Account logic shared by the admin views and the CLI. Callers own the transaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from mailer import audit, locks
from mailer.accounts import methods, passwords, roles, sessions, throttling
from mailer.accounts.models import LoginAttempt, User, new_session_token
from mailer.audit import actions
from mailer.database import utcnow

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = passwords.MIN_LENGTH
MAX_PASSWORD_LENGTH = passwords.MAX_LENGTH

# Throttling lives in throttling.py; these names stay for callers that read them.
THROTTLE_WINDOW = throttling.WINDOW
MAX_FAILURES_ACCOUNT_AND_IP = throttling.MAX_FAILURES_ACCOUNT_AND_IP
MAX_FAILURES_PER_IP = throttling.MAX_FAILURES_PER_IP
ATTEMPTS_KEPT_FOR = timedelta(days=1)

# werkzeug's scrypt: about 0.2 s a hash, which is the point. The test suite, which makes
# hundreds of users, swaps in a cheap method (tests/conftest.py); nothing else may.
PASSWORD_METHOD = "scrypt"

# Checked against when the e-mail is unknown, so a wrong address takes as long to
# refuse as a wrong password and sign-in does not reveal who has an account.
_DUMMY_HASH = generate_password_hash("not a real password, only for timing")


class AccountError(Exception):
    """A request about accounts that cannot be done; the message says why."""


def email_key(email: str) -> str:
    return email.strip().casefold()


def normalise_email(email: str) -> str:
    """The address as email-validator normalises it, or AccountError saying why not."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise AccountError(
            f"{email.strip() or 'That'} is not a valid email address: {exc}"
        ) from None


def check_password_policy(password: str, *, email: str = "", name: str = "") -> None:
    """Refuse a short, common or guessable password (mailer/accounts/passwords.py)."""
    try:
        passwords.check(password, email=email, name=name)
    except passwords.PasswordRefused as exc:
        raise AccountError(str(exc)) from None


def find_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email_key == email_key(email)))


def get_by_login_id(session: Session, login_id: str) -> User | None:
    """Flask-Login's user loader: ``<id>.<session_token>``; a stale token finds nobody."""
    user_id, _, token = login_id.partition(".")
    if not user_id.isdigit() or not token:
        return None
    user = session.get(User, int(user_id))
    if user is None or user.session_token != token or not user.active:
        return None
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.email_key)))


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    role: str,
    name: str = "",
    by: User | None = None,
    by_label: str | None = None,
    ip: str | None = None,
) -> User:
    if role not in roles.ROLES:
        raise AccountError(f"Unknown role {role!r}; choose one of {', '.join(roles.ROLES)}.")
    address = normalise_email(email)
    name = " ".join(name.split())[:200]
    check_password_policy(password, email=address, name=name)
    if find_by_email(session, address) is not None:
        raise AccountError(f"There is already a user with the address {address}.")
    user = User(
        email=address,
        email_key=email_key(address),
        name=name,
        role=role,
        password_hash=generate_password_hash(password, method=PASSWORD_METHOD),
        active=True,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actions.USER_CREATED,
        actor=by,
        actor_label=by_label,
        target_type="user",
        target_id=user.id,
        summary=f"Added {address} as {role}",
        detail={"role": role},
        ip=ip,
    )
    return user


def active_admin_count(session: Session) -> int:
    """How many active admins there are, for a change that must leave one. Holds the
    lock on that count until the transaction ends, so two changes made at once (two
    admins demoted by single sign-on in the same moment) cannot both see the other."""
    locks.hold(session, "active-admins")
    return (
        session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.role == roles.ADMIN, User.active.is_(True))
        )
        or 0
    )


def change_role(
    session: Session, user: User, *, role: str, by: User, ip: str | None = None
) -> None:
    if role not in roles.ROLES:
        raise AccountError(f"Unknown role {role!r}.")
    if role == user.role:
        return
    if user.role == roles.ADMIN and user.active and active_admin_count(session) <= 1:
        raise AccountError("This is the only active admin; make another admin first.")
    old = user.role
    user.role = role
    audit.record(
        session,
        actions.USER_ROLE_CHANGED,
        actor=by,
        target_type="user",
        target_id=user.id,
        summary=f"{user.email}: {old} → {role}",
        detail={"from": old, "to": role},
        ip=ip,
    )


def set_active(
    session: Session, user: User, *, active: bool, by: User, ip: str | None = None
) -> None:
    if user.active == active:
        return
    if not active:
        if user.id == by.id:
            raise AccountError("You cannot disable your own account.")
        if user.role == roles.ADMIN and active_admin_count(session) <= 1:
            raise AccountError("This is the only active admin; make another admin first.")
        # Signs the user out of every browser at the next request.
        user.session_token = new_session_token()
        sessions.end_all(session, user, now=utcnow(), reason=sessions.DISABLED)
    user.active = active
    audit.record(
        session,
        actions.USER_ENABLED if active else actions.USER_DISABLED,
        actor=by,
        target_type="user",
        target_id=user.id,
        summary=f"{'Enabled' if active else 'Disabled'} {user.email}",
        ip=ip,
    )


def change_password(
    session: Session,
    user: User,
    *,
    current: str | None,
    new: str,
    by: User | None = None,
    ip: str | None = None,
    keep_session: str | None = None,
    now: datetime | None = None,
) -> None:
    """Change a password; ``current`` is required when users change their own. Every
    other signed-in browser of the user is signed out (all but ``keep_session``)."""
    now = now or utcnow()
    if current is not None and not check_password_hash(user.password_hash, current):
        raise AccountError("The current password is not right.")
    check_password_policy(new, email=user.email, name=user.name)
    user.password_hash = generate_password_hash(new, method=PASSWORD_METHOD)
    user.password_changed_at = now
    user.session_token = new_session_token()
    sessions.end_all(session, user, now=now, reason=sessions.PASSWORD_CHANGED, keep=keep_session)
    audit.record(
        session,
        actions.USER_PASSWORD_CHANGED,
        actor=by or user,
        target_type="user",
        target_id=user.id,
        summary=f"Password changed for {user.email}",
        ip=ip,
    )


@dataclass(frozen=True)
class SignIn:
    """The outcome: a user, or a reason; ``retry_at`` is set when throttled."""

    user: User | None
    reason: str = ""
    retry_at: datetime | None = None


def authenticate(
    session: Session, *, email: str, password: str, ip: str, now: datetime | None = None
) -> SignIn:
    """Check a sign-in, record the attempt and its audit entry, apply throttling.

    Returns rather than raises in every case, so the caller commits the audit entry
    of a refused attempt too.
    """
    now = now or utcnow()
    key = email_key(email)[:320]
    # Attempts from one address take turns from here to the end of the transaction,
    # through the password check: otherwise attempts sent together would all be
    # counted before any of them had failed, and all be checked. Once the limit is
    # reached the ones still waiting are refused without a check, so the wait is short.
    throttling.one_at_a_time(session, ip=ip)
    retry_at = throttling.refused_until(session, key=key, ip=ip, now=now)
    if retry_at is not None:
        audit.record(
            session,
            actions.LOGIN_THROTTLED,
            actor_label=key or "(blank)",
            summary="Sign-in refused: too many failed attempts",
            detail={"email": key},
            ip=ip,
        )
        return SignIn(None, "throttled", retry_at)

    user = session.scalar(select(User).where(User.email_key == key)) if key else None
    password = password[:MAX_PASSWORD_LENGTH]
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        ok, reason = False, "unknown email"
    elif not check_password_hash(user.password_hash, password):
        ok, reason = False, "wrong password"
    elif not user.active:
        ok, reason = False, "account disabled"
    else:
        ok, reason = True, ""

    session.add(
        LoginAttempt(at=now, email_key=key, ip=ip, succeeded=ok, user_id=user.id if user else None)
    )
    if ok:
        assert user is not None
        # Signed in only once any second factor is shown too: record_sign_in.
        return SignIn(user)
    audit.record(
        session,
        actions.LOGIN_FAILED,
        actor=None,
        actor_label=key or "(blank)",
        target_type="user" if user else None,
        target_id=user.id if user else None,
        summary=f"Failed sign-in ({reason})",
        detail={"reason": reason},
        ip=ip,
    )
    _prune_attempts(session, now=now)
    return SignIn(None, reason)


def spend_a_password_check(password: str) -> None:
    """Take as long as checking a password does, for an answer that must not be told
    apart by its speed from one that checked (passwords off for all but one address)."""
    check_password_hash(_DUMMY_HASH, password[:MAX_PASSWORD_LENGTH])


def record_sign_in(session: Session, user: User, *, method: str, ip: str, now: datetime) -> None:
    """The sign-in is complete (password and any second factor, a passkey, or single
    sign-on): when, and how, on the record."""
    user.last_login_at = now
    audit.record(
        session,
        actions.LOGIN,
        actor=user,
        target_type="user",
        target_id=user.id,
        summary=f"Signed in ({methods.words(method)})",
        detail={"method": method},
        ip=ip,
    )


def _prune_attempts(session: Session, *, now: datetime) -> None:
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - ATTEMPTS_KEPT_FOR))
