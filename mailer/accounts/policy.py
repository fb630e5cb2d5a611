"""Who must use a second factor: ``[auth] require_second_factor`` against a role.

Pure: the policy's name and a role in, yes or no out. The sign-in guard
(mailer/admin/__init__.py) holds a password-only session of someone who must at the
page where a factor is set up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mailer.accounts import roles

if TYPE_CHECKING:
    from mailer.config import OidcSection

NONE = "none"
ADMINS = "admins"
APPROVERS_AND_ADMINS = "approvers_and_admins"
EVERYONE = "everyone"

_ROLES_HELD = {
    NONE: frozenset[str](),
    ADMINS: frozenset({roles.ADMIN}),
    APPROVERS_AND_ADMINS: frozenset({roles.APPROVER, roles.ADMIN}),
    EVERYONE: frozenset(roles.ROLES),
}

DESCRIPTIONS = {
    NONE: "No one is asked for a second factor.",
    ADMINS: "Admins must use a second factor.",
    APPROVERS_AND_ADMINS: "Approvers and admins must use a second factor.",
    EVERYONE: "Everyone must use a second factor.",
}


def requires_second_factor(policy: str, role: str) -> bool:
    """Whether someone with ``role`` must sign in with a second factor. An unknown
    policy (never from a checked config) requires it of everyone, failing closed."""
    return role in _ROLES_HELD.get(policy, frozenset(roles.ROLES)) or policy not in _ROLES_HELD


def passwords_allowed(oidc: OidcSection | None, email_key: str) -> bool:
    """Whether a password (or a passkey without the provider) may sign this address in:
    always, unless ``[oidc] only`` turned them off for all but the break-glass admin."""
    if oidc is None or not oidc.only:
        return True
    return bool(email_key) and email_key == oidc.break_glass.strip().lower()
