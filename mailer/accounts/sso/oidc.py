"""Single sign-on with the office's OpenID Connect provider (``[oidc]``): who may sign
in, and as what.

``sign_in`` finds or makes the user the provider vouched for (mailer/accounts/
oidc_protocol.py checked its ID token): matched by a verified email address, given the
role the provider's groups map to (the provider is the source of truth: a changed
group changes the role, except that of the break-glass admin and never so as to leave
no active admin), refused with a sentence a person reads otherwise. Callers own
the transaction; a refusal is raised, so nothing of it is kept, and
``record_refusal`` puts it in the audit log in a transaction of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer import audit
from mailer.accounts import roles
from mailer.accounts.models import User

# The same count of active admins as disabling an account or changing a role by hand.
from mailer.accounts.service import AccountError, active_admin_count, email_key, normalise_email
from mailer.accounts.sso.oidc_protocol import (
    Flow,
    Identity,
    SsoRefused,
    begin,
    check_answer,
    discover,
    finish,
    forget_provider,
)
from mailer.audit import actions
from mailer.config import OidcSection

BY = "single sign-on"
PRODUCT = "Stakeholder Mailer"
# Never a hash werkzeug would accept: a user made by single sign-on has no password
# until an admin gives them one.
NO_PASSWORD = "!single-sign-on"
_ROLE_ORDER = (roles.ADMIN, roles.APPROVER, roles.EDITOR)


def role_for(config: OidcSection, values: Iterable[str]) -> str | None:
    """The highest role any of ``values`` gives (admin, then approver, then editor),
    or None when none of them gives one."""
    held = set(values)
    groups = {
        roles.ADMIN: config.admin_groups,
        roles.APPROVER: config.approver_groups,
        roles.EDITOR: config.editor_groups,
    }
    for role in _ROLE_ORDER:
        if held.intersection(groups[role]):
            return role
    return None


def _domain_allowed(config: OidcSection, address: str) -> bool:
    if not config.allowed_domains:
        return True
    domain = address.rpartition("@")[2].casefold()
    return domain in {allowed.casefold() for allowed in config.allowed_domains}


def _checked_address(config: OidcSection, identity: Identity) -> str:
    if not identity.subject:
        raise SsoRefused(
            f"{config.name} did not say who you are. Start again.", reason="no subject"
        )
    if not identity.email:
        raise SsoRefused(
            f"{config.name} did not give your email address, so you cannot be matched to "
            "an account here. Ask your administrator to check the single sign-on setup.",
            reason="no email address",
        )
    if not identity.email_verified:
        raise SsoRefused(
            f"{config.name} has not confirmed that {identity.email} is yours, so it cannot "
            "sign you in here. Ask your IT team to check your account.",
            reason="email address not verified",
            email=identity.email,
        )
    try:
        address = normalise_email(identity.email)
    except AccountError:
        raise SsoRefused(
            f"{identity.email} is not an email address this office can use.",
            reason="email address not valid",
            email=identity.email,
        ) from None
    if not _domain_allowed(config, address):
        raise SsoRefused(
            f"{address} is not at an address this office lets sign in "
            f"({', '.join(config.allowed_domains)}). Sign in with your work account.",
            reason="email domain not allowed",
            email=address,
        )
    return address


def _existing(
    session: Session, config: OidcSection, identity: Identity, address: str
) -> User | None:
    by_email = session.scalar(select(User).where(User.email_key == email_key(address)))
    by_subject = session.scalar(select(User).where(User.oidc_subject == identity.subject))
    mismatch = (by_email is not None and by_email.oidc_subject not in (None, identity.subject)) or (
        by_subject is not None and by_subject is not by_email
    )
    if mismatch:
        # The address now belongs to another account at the provider (or this account
        # now has another address): an admin must decide, not this sign-in.
        raise SsoRefused(
            f"The {PRODUCT} account for {address} is linked to a different {config.name} "
            "account, so you cannot use it from this one. Ask an admin.",
            reason="subject does not match the account",
            email=address,
        )
    return by_email


def sign_in(
    session: Session, config: OidcSection, identity: Identity, *, ip: str, now: datetime
) -> User:
    """The user the provider vouched for, made on a first sign-in, their role set from
    the provider's groups; SsoRefused when they may not sign in."""
    address = _checked_address(config, identity)
    role = role_for(config, identity.groups)
    if role is None:
        raise SsoRefused(
            f"Your account at {config.name} is not in a group that may use {PRODUCT}. "
            "Ask your administrator to add you to the group for editors, approvers or "
            "admins.",
            reason="no group giving a role",
            email=address,
        )
    user = _existing(session, config, identity, address)
    if user is None:
        return _create(session, identity, address=address, role=role, ip=ip, now=now)
    if not user.active:
        raise SsoRefused(
            f"Your {PRODUCT} account has been disabled. Ask an admin to enable it.",
            reason="account disabled",
            email=address,
        )
    user.oidc_subject = identity.subject
    if user.role != role:
        _take_role(session, config, user, role=role, ip=ip)
    return user


def _role_kept_because(session: Session, config: OidcSection, user: User, role: str) -> str:
    """Why the provider's groups may not change this user's role ("" when they may)."""
    if config.break_glass and user.email_key == email_key(config.break_glass):
        # Kept for when the provider is down or wrong: the provider cannot undo it.
        return "the break-glass admin"
    demoted = user.role == roles.ADMIN and role != roles.ADMIN and user.active
    if demoted and active_admin_count(session) <= 1:
        return "the only active admin"
    return ""


def _take_role(session: Session, config: OidcSection, user: User, *, role: str, ip: str) -> None:
    """The role the provider's groups give, unless that would take the break-glass
    admin's role or leave no active admin: then they sign in as they are, and the log
    says what was not changed (an admin must fix the groups or make another admin)."""
    kept = _role_kept_because(session, config, user, role)
    if kept:
        audit.record(
            session,
            actions.SSO_ROLE_KEPT,
            actor_label=BY,
            target_type="user",
            target_id=user.id,
            summary=f"{user.email} kept {user.role}, not {role} from the groups at "
            f"{config.name}: {kept}",
            detail={"role": user.role, "groups_give": role, "reason": kept},
            ip=ip,
        )
        return
    old, user.role = user.role, role
    audit.record(
        session,
        actions.USER_ROLE_CHANGED,
        actor_label=BY,
        target_type="user",
        target_id=user.id,
        summary=f"{user.email}: {old} → {role} (groups at {config.name})",
        detail={"from": old, "to": role},
        ip=ip,
    )


def _create(
    session: Session, identity: Identity, *, address: str, role: str, ip: str, now: datetime
) -> User:
    user = User(
        created_at=now,
        password_changed_at=now,
        email=address,
        email_key=email_key(address),
        name=identity.name,
        role=role,
        password_hash=NO_PASSWORD,
        active=True,
        oidc_subject=identity.subject,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actions.USER_CREATED,
        actor_label=BY,
        target_type="user",
        target_id=user.id,
        summary=f"Added {address} as {role} at their first single sign-on",
        detail={"role": role},
        ip=ip,
    )
    return user


def record_refusal(session: Session, refusal: SsoRefused, *, ip: str) -> None:
    """The refusal in the audit log (in its own transaction: the sign-in's rolled back)."""
    user = (
        session.scalar(select(User).where(User.email_key == email_key(refusal.email)))
        if refusal.email
        else None
    )
    audit.record(
        session,
        actions.SSO_REFUSED,
        actor_label=email_key(refusal.email) or BY,
        target_type="user" if user else None,
        target_id=user.id if user else None,
        summary=f"Single sign-on refused ({refusal.reason})",
        detail={"reason": refusal.reason, "email": email_key(refusal.email)},
        ip=ip,
    )


def passwords_off_words(config: OidcSection) -> str:
    return (
        f"Passwords are turned off here: sign in with the “Sign in with {config.name}” "
        "button. Only the administrator kept for when it is down may use a password "
        "(if that is you, check the address and password)."
    )


def record_password_refused(session: Session, *, email: str, ip: str) -> None:
    """A password tried while ``[oidc] only`` turns passwords off (not checked at all)."""
    key = email_key(email)[:320]
    audit.record(
        session,
        actions.LOGIN_FAILED,
        actor_label=key or "(blank)",
        summary="Failed sign-in (passwords are off: single sign-on only)",
        detail={"reason": "passwords off"},
        ip=ip,
    )


__all__ = [
    "Flow",
    "Identity",
    "SsoRefused",
    "begin",
    "check_answer",
    "discover",
    "finish",
    "forget_provider",
    "passwords_off_words",
    "record_password_refused",
    "record_refusal",
    "role_for",
    "sign_in",
]
