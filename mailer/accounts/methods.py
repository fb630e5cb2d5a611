"""How a sign-in was made: the words stored on the session and written in the audit log.

A method is strong when it took more than a password: a password and a second factor,
a passkey on its own (the device and what unlocks it), or the office's single sign-on
(whose provider applies its own multi-factor rules).
"""

from __future__ import annotations

PASSWORD = "password"
PASSWORD_TOTP = "password+totp"
PASSWORD_RECOVERY = "password+recovery"
PASSWORD_PASSKEY = "password+passkey"
PASSKEY = "passkey"
SSO = "sso"

WORDS = {
    PASSWORD: "password",
    PASSWORD_TOTP: "password and authenticator app",
    PASSWORD_RECOVERY: "password and recovery code",
    PASSWORD_PASSKEY: "password and passkey",
    PASSKEY: "passkey",
    SSO: "single sign-on",
}

_STRONG = frozenset(WORDS) - {PASSWORD}


def is_strong(method: str) -> bool:
    return method in _STRONG


def words(method: str) -> str:
    return WORDS.get(method, method)
